/**
 * The default verification worker of a {@linkcode VerifyPool}: `core/verify`'s `verify` behind the pool's
 * message protocol.
 *
 * @module
 */

import { verify } from "../../core/verify/mod.ts";
import { serveVerifier } from "./protocol.ts";

serveVerifier(verify);
