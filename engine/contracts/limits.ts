// Hard limits shared by every layer. Imports nothing.

/** Most players of an exact (2^n) explanation by option: it keeps mask indices inside 31-bit integers. The wasm32
 *  kernel memory binds earlier (24 players; see assertPlayersFit in pipeline/plan.ts), and the memory budget may bind
 *  earlier still. */
export const MAX_PLAYERS = 30;
