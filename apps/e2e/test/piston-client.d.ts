/** The npm `piston-client` (plain JavaScript): what the compat tests call of it. */
declare module 'piston-client' {
  interface ExecuteConfig {
    language?: string;
    version?: string;
    files?: { name?: string; content: string; encoding?: string }[];
    stdin?: string;
    args?: string[];
    compileTimeout?: number;
    runTimeout?: number;
    compileMemoryLimit?: number;
    runMemoryLimit?: number;
  }
  interface PistonClient {
    runtimes(): Promise<unknown>;
    execute(language: string, code: string, config?: ExecuteConfig): Promise<unknown>;
    execute(config: ExecuteConfig): Promise<unknown>;
  }
  export function piston(options?: { server?: string }): PistonClient;
  export default piston;
}
