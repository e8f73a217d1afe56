// Types of gen-config.mjs, for the tests that import it.
export declare const SCHEMA_PATH: string;
export declare const PACKAGE_PATH: string;
export declare const EXCLUDED: string[];
export declare const EXTENSION_PROPERTIES: Record<string, Record<string, unknown>>;
export declare function envName(name: string): string;
export declare function configurationFromSchema(schema: { properties: Record<string, Record<string, unknown>> }): {
  title: string;
  properties: Record<string, Record<string, unknown>>;
};
export declare function vscodeType(type: string | string[]): string | string[];
