// Hard limits shared by every layer. Imports nothing.

/** Most players of an exact (2^n) explanation: the WASM kernels address at most 4 GiB, and n = 30 f64 is 8 GiB,
 *  so the memory budget always binds first; this bound only keeps mask indices inside 31-bit integers. */
export const MAX_PLAYERS = 30;
