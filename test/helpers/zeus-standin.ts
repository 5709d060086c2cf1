export * from '../../sandbox/zeus/zeus.js';
