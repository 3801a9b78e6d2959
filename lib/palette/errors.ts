/** Why a palette cannot be used: the message names the file (and line) or the spec at fault. */

import { InputError } from "../util/errors.ts";

export class PaletteError extends InputError {}
