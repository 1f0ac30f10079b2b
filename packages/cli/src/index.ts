export { registerPersonCommands } from './commands.js';
