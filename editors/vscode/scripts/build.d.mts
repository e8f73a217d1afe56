// Types of build.mjs, for the test that bundles the extension.
import type { BuildOptions } from "esbuild";
export declare function buildOptions(options?: { production?: boolean; outfile?: string }): BuildOptions;
