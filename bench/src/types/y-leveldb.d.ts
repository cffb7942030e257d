// y-leveldb 0.2.0 ships types its package.json "exports" does not point at.
declare module 'y-leveldb' {
  import type * as Y from 'yjs'
  export class LeveldbPersistence {
    constructor (location: string, opts?: { level?: unknown, levelOptions?: object })
    tr: Promise<unknown>
    getYDoc (docName: string): Promise<Y.Doc>
    storeUpdate (docName: string, update: Uint8Array): Promise<number>
    flushDocument (docName: string): Promise<void>
    destroy (): Promise<void>
  }
}
