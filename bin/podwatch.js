#!/usr/bin/env node
// Runs the TypeScript sources through tsx, so a checkout works after `npm ci` without a build.
import { register } from 'tsx/esm/api';

register();
await import('../services/cli/main.ts');
