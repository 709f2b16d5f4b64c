// The search lanes' residual index (engine/analysis/sparse/lane-index.ts) against brute force: for any prefix of a
// lane's order, the sum of the known terms inside R ∪ prefix, over rounds in which the slot keeps its order (and its
// record of placed terms and its trees) while terms are added and values change, and over fresh orders.
import { describe, expect, it } from 'vitest';
import { LaneIndex, needTrees, placedTerms, termsByPlayer, type Prediction } from '../../../engine/analysis/sparse/lane-index.js';
import { TermStore } from '../../../engine/analysis/sparse/terms.js';
import { seededRng } from './planted.js';

describe('LaneIndex', () => {
  it('predicts the known terms inside R ∪ order[0..k) as brute force does, round after round', () => {
    for (const seed of [1, 2, 3, 4, 5, 6]) {
      const random = seededRng(seed);
      const below = (k: number) => Math.floor(random() * k);
      const n = 5 + below(40);
      const store = new TermStore();
      const addTerms = (count: number) => {
        for (let k = 0; k < count; k++) {
          const order = below(5);
          store.add([...new Set(Array.from({ length: order }, () => below(n)))], random() * 2 - 1);
        }
      };
      addTerms(30);
      const trees = needTrees(n);
      const record = placedTerms();
      const slot = { position: new Int32Array(n), stamp: new Int32Array(n), epoch: 1, placed: 0 };
      let order = Array.from({ length: n }, (_, i) => i).sort(() => random() - 0.5);
      const prediction: Prediction = { sum: 0, count: 0 };
      for (let round = 0; round < 12; round++) {
        if (round > 0 && random() < 0.3) {
          // a fresh order (the lane found nothing): a new epoch, nothing placed
          slot.epoch++;
          slot.placed = 0;
          order = Array.from({ length: n }, (_, i) => i).sort(() => random() - 0.5);
        }
        const view = store.view();
        const byPlayer = termsByPlayer(view, n);
        const required: number[] = [];
        const index = new LaneIndex(trees, slot, view, byPlayer, required, record);
        const check = () => {
          for (let k = 0; k <= slot.placed; k++) {
            let sum = 0;
            let count = 0;
            for (let t = 0; t < view.count; t++) {
              const players = store.players(t).filter((i) => !required.includes(i));
              if (players.every((i) => slot.stamp[i] === slot.epoch && slot.position[i] < k)) {
                sum += view.values[t];
                count++;
              }
            }
            index.predict(k, prediction);
            expect(prediction.count, `seed ${seed}, round ${round}, k = ${k}`).toBe(count);
            expect(prediction.sum).toBeCloseTo(sum, 9);
          }
        };
        check();
        // the lane draws further into its order (R empty), then adds placed players to R, then draws again (the
        // search does not, but the index allows it)
        const drawTo = (to: number) => {
          for (let p = slot.placed; p < to; p++) {
            const player = order[p];
            slot.position[player] = p;
            slot.stamp[player] = slot.epoch;
            if (byPlayer.start[player + 1] !== byPlayer.start[player]) index.place(player);
          }
          slot.placed = Math.max(slot.placed, to);
        };
        drawTo(Math.min(n, slot.placed + below(n / 2 + 1)));
        check();
        for (let k = 0; k < 3 && slot.placed > 0; k++) {
          const player = order[below(slot.placed)];
          if (required.includes(player)) continue;
          required.push(player);
          index.touch(player);
        }
        check();
        drawTo(Math.min(n, slot.placed + below(n / 4 + 1)));
        check();
        index.clear();
        // between rounds: new terms (entered alone into the slot's trees), and in some rounds known ones found again
        // (their values change: the trees are built again)
        addTerms(below(15));
        if (random() < 0.5) for (let k = 0; k < 3; k++) store.add(store.players(below(store.size)), random());
      }
    }
  });
});
