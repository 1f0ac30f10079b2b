/** The CLI's version, sent as the User-Agent and printed by `keyward --version`. */
export const cliVersion = '0.1.0';
