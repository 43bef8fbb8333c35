import { Faker, type Randomizer, base, de, en, fr } from '@faker-js/faker';
import { ENTITY, type EntityName, unitOf } from './keys.js';

/**
 * The random source of one generated row: a stream of numbers fixed by (seed, entity, row index).
 * `at(i)` starts row i's stream, so row i comes out the same whichever generator builds it and in
 * whatever order: the ticket generator can rebuild contact 812's email without keeping it.
 * Faker draws from the same stream (as its Randomizer), for words, names and products.
 */
export class Draw {
  readonly en: Faker;
  readonly de: Faker;
  readonly fr: Faker;
  private row = 0;
  private k = 0;
  private readonly tag: number;

  constructor(private readonly seed: number, entity: EntityName) {
    this.tag = ENTITY[entity];
    const randomizer: Randomizer = { next: () => this.unit(), seed: () => undefined };
    this.en = new Faker({ locale: [en, base], randomizer });
    this.de = new Faker({ locale: [de, en, base], randomizer });
    this.fr = new Faker({ locale: [fr, en, base], randomizer });
  }

  /** starts the stream of row `i` */
  at(i: number): this {
    this.row = i;
    this.k = 0;
    return this;
  }

  /** [0, 1) */
  unit(): number {
    return unitOf(this.seed, this.tag, this.row, this.k++);
  }

  /** an integer in [min, max] */
  int(min: number, max: number): number {
    return min + Math.floor(this.unit() * (max - min + 1));
  }

  chance(p: number): boolean {
    return this.unit() < p;
  }

  pick<T>(list: readonly T[]): T {
    return list[Math.floor(this.unit() * list.length)] as T;
  }

  /** picks by weight: `weighted([['open', 6], ['won', 2]])` */
  weighted<T>(choices: readonly (readonly [T, number])[]): T {
    const total = choices.reduce((s, [, w]) => s + w, 0);
    let r = this.unit() * total;
    for (const [value, w] of choices) {
      r -= w;
      if (r < 0) return value;
    }
    return choices[choices.length - 1]![0];
  }
}
