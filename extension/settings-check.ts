import { errors } from '../common/errors';
import { parseModelRef } from '../common/model-uri';
import { checkAlias } from '../common/registry/names';
import type { LaunchSettings } from './server/server-process';

/** The extension's settings (`mlops.*`), checked. */
export interface Settings extends LaunchSettings {
  autoStart: boolean;
}

/**
 * Checks the settings as read (settings.json can hold anything: VS Code only underlines what breaks
 * the schema in package.json) and fills the defaults that depend on the machine.
 */
export function checkSettings(raw: Record<string, unknown>, workspaceFolder: string | null): Settings {
  const text = (name: string) => {
    const value = raw[name] ?? '';
    if (typeof value !== 'string') throw errors.badSetting(`mlops.${name}`, 'a string', value);
    return value.trim();
  };
  const port = raw['server.port'] ?? 8000;
  if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65535) {
    throw errors.badSetting('mlops.server.port', 'a whole number from 1 to 65535', port);
  }
  const host = text('server.host') || '127.0.0.1';
  if (/[\s/]/.test(host)) throw errors.badSetting('mlops.server.host', 'a host name or IP address, without scheme or port', host);
  const alias = text('defaultAlias') || 'production';
  try {
    checkAlias(alias);
  } catch (err) {
    throw errors.badSetting('mlops.defaultAlias', `an alias (${(err as Error).message})`, alias);
  }
  const model = text('model');
  if (model) {
    try {
      parseModelRef(model);
    } catch (err) {
      throw errors.badSetting('mlops.model', `a model URI (${(err as Error).message})`, model);
    }
  }
  return {
    host,
    port,
    autoStart: raw['server.autoStart'] !== false,
    nodePath: text('nodePath') || 'node',
    dataDirectory: text('dataDirectory'),
    pipeline: text('pipeline'),
    defaultAlias: alias,
    model,
    projectDirectory: text('projectDirectory') || workspaceFolder,
  };
}
