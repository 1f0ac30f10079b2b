import { colours, colourWanted, type Colours } from './style.js';

/**
 * Where a command writes. With --json, standard output carries exactly one JSON document and
 * nothing else; people's text, notes and warnings go to standard error so pipes stay clean.
 */
export class Output {
  readonly style: Colours;
  readonly errStyle: Colours;
  constructor(
    readonly json: boolean,
    readonly quiet = false,
    private readonly stdout: NodeJS.WriteStream = process.stdout,
    private readonly stderr: NodeJS.WriteStream = process.stderr,
  ) {
    this.style = colours(colourWanted(stdout, json));
    this.errStyle = colours(colourWanted(stderr, json));
  }

  /** Text for people on standard output; nothing with --json or --quiet. */
  line(text = ''): void {
    if (this.json || this.quiet) return;
    this.stdout.write(`${text}\n`);
  }

  /** The one JSON document of a --json command. */
  document(value: unknown): void {
    this.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
  }

  /** The bare value of --quiet (a secret, an id), for piping. */
  bare(text: string): void {
    this.stdout.write(`${text}\n`);
  }

  /** A warning on standard error, shown in every mode: scripts log it, pipes never carry it. */
  warn(text: string): void {
    this.stderr.write(`${this.errStyle.yellow('Warning:')} ${text}\n`);
  }

  /** A note on standard error (progress, hints) that --json and --quiet silence. */
  note(text: string): void {
    if (this.json || this.quiet) return;
    this.stderr.write(`${text}\n`);
  }
}
