import { describe, expect, it } from 'vitest';
import {
  addSubjectToken,
  findSubjectTokens,
  formatSubjectToken,
  normalizeSubject,
  subjectTokenTag,
  tokenCheckFromBytes,
} from './subject.js';

describe('normalizeSubject', () => {
  it.each([
    ['Re: Order 42', 'Order 42'],
    ['RE: AW: Fwd:  Order   42', 'Order 42'],
    ['Re[2]: Order', 'Order'],
    ['Re(3): Order', 'Order'],
    ['SV: VS: Tilaus', 'Tilaus'],
    ['WG: Antw: Bestellung', 'Bestellung'],
    ['TR: Réf : Commande', 'Commande'],
    ['R: I: Ordine', 'Ordine'],
    ['RV: ENC: Pedido', 'Pedido'],
    ['Odp: PD: Zamówienie', 'Zamówienie'],
    ['YNT: Sipariş', 'Sipariş'],
    ['ΑΠ: ΣΧΕΤ: Παραγγελία', 'Παραγγελία'],
    ['Ответ: Заказ', 'Заказ'],
    ['回复：订单', '订单'],
    ['転送: 注文', '注文'],
    ['Order 42 [#P12-7KQX]', 'Order 42'],
    ['Re: [#p12-7kqx] Order 42', 'Order 42'],
    ['Regarding the order', 'Regarding the order'],
    ['Reply needed', 'Reply needed'],
    ['', ''],
  ])('%j → %j', (input, expected) => {
    expect(normalizeSubject(input)).toBe(expected);
  });
});

describe('subject tokens', () => {
  it('formats, tags and finds tokens regardless of case', () => {
    const token = formatSubjectToken(123, '7kqx');
    expect(token).toBe('#P123-7KQX');
    expect(subjectTokenTag(token)).toBe('[#P123-7KQX]');
    expect(findSubjectTokens('Re: Order [#p123-7kqx] and [#P9-ABCD] [#P123-7KQX]')).toEqual(['#P123-7KQX', '#P9-ABCD']);
    expect(findSubjectTokens('Order [#P123] [P123-7KQX] [#P123-7KQI]')).toEqual([]);
  });
  it('adds the tag once', () => {
    const token = '#P5-ZZZZ';
    expect(addSubjectToken('Order', token)).toBe('Order [#P5-ZZZZ]');
    expect(addSubjectToken('Re: Order [#p5-zzzz]', token)).toBe('Re: Order [#p5-zzzz]');
    expect(addSubjectToken('  ', token)).toBe('[#P5-ZZZZ]');
  });
  it('rejects bad ids and checks', () => {
    expect(() => formatSubjectToken(0, 'AAAA')).toThrow(RangeError);
    expect(() => formatSubjectToken(1, 'AAI0')).toThrow(RangeError);
    expect(() => formatSubjectToken(1, 'AAA')).toThrow(RangeError);
  });
  it('derives a four-character check from random bytes', () => {
    expect(tokenCheckFromBytes(new Uint8Array([0, 0, 0]))).toBe('0000');
    expect(tokenCheckFromBytes(new Uint8Array([0xff, 0xff, 0xff]))).toBe('ZZZZ');
    expect(tokenCheckFromBytes(new Uint8Array([1, 2, 3]))).toMatch(/^[0-9A-HJKMNP-TV-Z]{4}$/);
    expect(() => tokenCheckFromBytes(new Uint8Array([1]))).toThrow(RangeError);
  });
});
