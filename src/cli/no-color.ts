// https://no-color.org: NO_COLOR present and not empty means no colour, whatever its value.
// Read once by the commands and passed down as an explicit option, so the renderers stay pure.
export function noColorFromEnv(env: Readonly<Record<string, string | undefined>>): boolean {
  const v = env['NO_COLOR'];
  return v !== undefined && v !== '';
}
