/** The Keyward MCP server (`keyward mcp`): Keyward's API as Model Context Protocol tools over stdio. */
export { runMcpServer, type RunMcpOptions } from './run.js';
export { createKeywardMcpServer, keywardApi, type KeywardApiOptions, type KeywardHttp, type KeywardMcpOptions } from './server.js';
