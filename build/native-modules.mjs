// The VS Code extension host runs its own Node, with its own ABI: a native module built for the
// project's Node would crash it or fail to load. better-sqlite3 and onnxruntime-node belong to the
// server and runner processes, which the extension reaches over HTTP. This esbuild plugin fails a
// build whose bundle would load one of them, or any `.node` binary (at resolution, then in esbuild's metafile).

import path from 'node:path';

export const NATIVE_PACKAGES = ['better-sqlite3', 'onnxruntime-node'];

const isNativePackage = (p) =>
  NATIVE_PACKAGES.some((name) => p === name || p.startsWith(`${name}/`) || p.includes(`node_modules/${name}/`));
const isNative = (p) => p.endsWith('.node') || isNativePackage(p);

/**
 * What in a metafile is native, each with the file that imports it: bundled inputs
 * (node_modules/better-sqlite3/…, *.node) and imports left external (the metafile lists both).
 * @param {import('esbuild').Metafile} metafile
 * @returns {{ module: string, importer: string }[]}
 */
export function nativeModulesIn(metafile) {
  const found = [];
  for (const [importer, input] of Object.entries(metafile.inputs)) {
    if (isNative(importer)) continue; // its own imports are inside a package already reported
    for (const imported of input.imports) {
      if (isNative(imported.path)) found.push({ module: imported.path, importer });
    }
  }
  return found;
}

/** One message for the build log: what is native and who pulls it in. */
export function nativeModulesMessage(bundle, found) {
  const list = found.map((f) => `${f.module} (imported by ${f.importer})`).join(', ');
  return (
    `${bundle} must not load a native module: it runs in the VS Code extension host (another Node ABI); ` +
    `reach ${NATIVE_PACKAGES.join(' and ')} through the server's HTTP API instead. Found: ${list}`
  );
}

/** esbuild plugin: the build fails when `bundle` would include a native module. Needs `metafile: true`. */
export function noNativeModules(bundle) {
  return {
    name: 'no-native-modules',
    setup(build) {
      build.initialOptions.metafile = true;
      // At resolution, so the message comes before esbuild's own "no loader for .node files";
      // the metafile check after the build catches paths that get there another way.
      build.onResolve({ filter: /^(better-sqlite3|onnxruntime-node)(\/|$)|\.node$/ }, (args) => ({
        errors: [
          {
            text: nativeModulesMessage(bundle, [
              { module: args.path, importer: args.importer ? path.relative(process.cwd(), args.importer) : '(entry point)' },
            ]),
          },
        ],
      }));
      build.onEnd((result) => {
        if (!result.metafile) return undefined;
        const found = nativeModulesIn(result.metafile);
        return found.length ? { errors: [{ text: nativeModulesMessage(bundle, found) }] } : undefined;
      });
    },
  };
}
