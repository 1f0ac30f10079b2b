/** ANSI colours that are plain text when colour is off (not a terminal, NO_COLOR, or --json). */
export interface Colours {
  readonly enabled: boolean;
  bold(text: string): string;
  dim(text: string): string;
  red(text: string): string;
  green(text: string): string;
  yellow(text: string): string;
  cyan(text: string): string;
}

export function colours(enabled: boolean): Colours {
  const wrap = (open: number, close: number) => (text: string) => (enabled && text ? `\x1b[${open}m${text}\x1b[${close}m` : text);
  return { enabled, bold: wrap(1, 22), dim: wrap(2, 22), red: wrap(31, 39), green: wrap(32, 39), yellow: wrap(33, 39), cyan: wrap(36, 39) };
}

/** Colour only on a terminal, never with NO_COLOR set (https://no-color.org), never in --json. */
export function colourWanted(stream: NodeJS.WriteStream, json: boolean, env: NodeJS.ProcessEnv = process.env): boolean {
  return !json && stream.isTTY === true && !env.NO_COLOR;
}
