/**
 * Loki's `-config.expand-env=true`: `${VAR}` and `$VAR` in the config file's text are replaced by the
 * environment's values before the YAML is read; an unset or empty variable gives '' or, written
 * `${VAR:default}`, the default (everything after the first ':'). As in Go's os.Expand, which Loki uses,
 * a `$` followed by nothing that names a variable is left as it is.
 */
export function expandEnv(text: string, env: NodeJS.ProcessEnv): string {
  return text.replace(/\$(?:\{([^}]*)\}|([A-Za-z0-9_]+)|([*#$@!?-]))/g, (whole, braced: string | undefined, bare: string | undefined, special: string | undefined) => {
    if (braced !== undefined) {
      if (braced === '') return whole;
      const colon = braced.indexOf(':');
      const name = colon < 0 ? braced : braced.slice(0, colon);
      const v = env[name] ?? '';
      return v === '' && colon >= 0 ? braced.slice(colon + 1) : v;
    }
    return env[(bare ?? special)!] ?? '';
  });
}
