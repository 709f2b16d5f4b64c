// Hard caps of the input parsers: how much a file may hold, how deep a JSON sample may nest, how many indices a
// player list may name. Every parser checks its cap BEFORE it allocates or expands, so no input can crash V8.
// Constants only; imports nothing.

/** Largest JSON or CSV file (and inline JSON string) read, in bytes: 64 MiB. JSON.parse builds objects about 10–20
 *  times the size of the text, so this keeps a worst-case file near 1 GiB of heap; larger data goes in .npy. */
export const MAX_TEXT_BYTES = 64 * 2 ** 20;

/** Most samples in one set (CSV data rows, JSON samples, the first dim of a .npy). Each sample is a JS object, so
 *  tens of millions of tiny rows would exhaust the heap long before the byte caps bind. */
export const MAX_SAMPLES = 1_000_000;

/** Largest .npy or raw float64 file read, in bytes: 2 GiB − 1, the most fs.read hands back in one buffer. A raw game
 *  therefore holds at most 2^27 values (n ≤ 27 players) when it comes from a file. */
export const MAX_BINARY_BYTES = 2 ** 31 - 1;

/** Deepest nesting of a JSON sample or values array (levels of brackets). Real tensors have ≤ 8 dims; 32 leaves
 *  room, and flattening is iterative anyway, so the cap is about catching garbage, not the stack. */
export const MAX_NESTING_DEPTH = 32;

/** Most numbers in one nested array (a sample, a baseline, a values vector given as JSON or as a JS array): 2^26,
 *  512 MiB as float64. A 64 MiB JSON text holds fewer; the cap stops a sparse JS array of length 2^32 − 1 from
 *  being walked hole by hole. */
export const MAX_ELEMENTS = 2 ** 26;

/** Most indices one player list may name, and the bound on each index when the caller gives no unit count. */
export const MAX_INDEX_COUNT = 1_000_000;
