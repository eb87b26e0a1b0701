/**
 * node:crypto, loaded on first use instead of at import. Every module of the
 * CLI's fast path is bundled into one file and runs at start-up, so one
 * static `import … from 'node:crypto'` anywhere in it made every command pay
 * ~3.5 ms to load crypto, though a status or a volume change never uses it
 * (the audit line a change writes is hashed by core/sha256.ts).
 */
export const nodeCrypto = (): typeof import('node:crypto') => process.getBuiltinModule('node:crypto');
