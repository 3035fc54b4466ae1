// Every tensor encoding's codec, by name (the names and their file codes: ENCODINGS).
import { CTX_CODECS } from './ctx_encodings.js';
import { GRID_CODECS } from './grid_encodings.js';
import { PATTERN_CODECS } from './pattern_encoding.js';
import { SIGN_CODECS } from './sign_encodings.js';
import { BASE_CODECS, type Codec, type TensorEncoding } from './tensor_encodings.js';
import { WINOGRAD_CODECS } from './winograd_encoding.js';

export const CODECS: Record<TensorEncoding, Codec> = { ...BASE_CODECS, ...GRID_CODECS, ...CTX_CODECS, ...WINOGRAD_CODECS, ...SIGN_CODECS, ...PATTERN_CODECS };
