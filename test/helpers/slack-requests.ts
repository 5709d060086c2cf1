export * from '../../sandbox/slack/requests.js';
