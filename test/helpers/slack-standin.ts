export * from '../../sandbox/slack/local-slack.js';
