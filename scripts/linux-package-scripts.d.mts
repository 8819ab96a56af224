// Types of scripts/linux-package-scripts.mjs for the TypeScript tests that use it.
export type PackageKind = 'desktop' | 'service';
export type ScriptName = 'after-install' | 'before-remove' | 'after-remove';
export const outputDir: string;
export const layout: Record<PackageKind, Record<ScriptName, string[]>>;
export function packageScript(kind: PackageKind, name: ScriptName): string;
export function writePackageScripts(kind: PackageKind): Record<ScriptName, string>;
