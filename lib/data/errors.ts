/** Why a dataset cannot be loaded: the message names the file and what is wrong with it. */

import { InputError } from "../util/errors.ts";

export class DatasetError extends InputError {}
