/**
 * Node built-ins loaded on first use instead of at import. Every module of
 * the CLI's fast path is bundled into one file and runs at start-up, so one
 * static `import … from 'node:crypto'` anywhere in it made every command pay
 * ~3.5 ms to load crypto, and one from 'node:fs/promises' ~1 ms (with
 * readline), though a status or a volume change uses neither (the audit line
 * a change writes is hashed by core/sha256.ts and written with sync calls).
 */
export const nodeCrypto = (): typeof import('node:crypto') => process.getBuiltinModule('node:crypto');
export const nodeFsPromises = (): typeof import('node:fs/promises') => process.getBuiltinModule('node:fs/promises');
