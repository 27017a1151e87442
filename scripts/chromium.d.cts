// Types of chromium.cjs for the TypeScript tests.
export declare const CHROMIUM: string;
export declare const CHROMIUM_ARGS: string[];
