import { describe, expect, it } from 'vitest';
import { FIELD_LIMITS as API_LIMITS } from '../../src/domain/field-limits.js';
import { FIELD_LIMITS } from '../../src/web/lib/field-limits.js';

describe("the console's field limits (maxlength)", () => {
  it("are the API's, so a form never accepts what the API refuses", () => {
    expect(FIELD_LIMITS).toEqual(API_LIMITS);
  });
});
