/** Types for module-boundaries.mjs (read by ESLint, which loads plain JavaScript). */
export declare const ALLOWED: Record<string, string[]>;
export declare function moduleBoundaryConfigs(): unknown[];
