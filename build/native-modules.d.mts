import type { Metafile, Plugin } from 'esbuild';

export const NATIVE_PACKAGES: string[];
export function nativeModulesIn(metafile: Metafile): { module: string; importer: string }[];
export function nativeModulesMessage(bundle: string, found: { module: string; importer: string }[]): string;
export function noNativeModules(bundle: string): Plugin;
