import { ByteBuf } from "./bytes.ts";

/**
 * Thrift compact protocol, write side only: the encoding of Parquet's footer, page headers,
 * page indexes and bloom filter headers (parquet-format's parquet.thrift field ids).
 */
export const T = {
  TRUE: 1,
  FALSE: 2,
  BYTE: 3,
  I16: 4,
  I32: 5,
  I64: 6,
  DOUBLE: 7,
  BINARY: 8,
  LIST: 9,
  STRUCT: 12,
} as const;

const utf8 = new TextEncoder();

export class ThriftWriter {
  readonly out: ByteBuf;
  private last: number[] = [0];
  constructor(out = new ByteBuf(256)) {
    this.out = out;
  }
  private header(id: number, type: number): void {
    const top = this.last.length - 1;
    const delta = id - (this.last[top] ?? 0);
    if (delta > 0 && delta <= 15) this.out.byte((delta << 4) | type);
    else {
      this.out.byte(type);
      this.out.varint(id);
    }
    this.last[top] = id;
  }
  i32(id: number, v: number): this {
    this.header(id, T.I32);
    this.out.varint(v);
    return this;
  }
  i64(id: number, v: number | bigint): this {
    this.header(id, T.I64);
    if (typeof v === "bigint") this.out.uvarintBig(v >= 0n ? v << 1n : (-v << 1n) - 1n);
    else this.out.varint(v);
    return this;
  }
  bool(id: number, v: boolean): this {
    this.header(id, v ? T.TRUE : T.FALSE);
    return this;
  }
  binary(id: number, v: Uint8Array | string): this {
    this.header(id, T.BINARY);
    const b = typeof v === "string" ? utf8.encode(v) : v;
    this.out.uvarint(b.length);
    this.out.bytes(b);
    return this;
  }
  /** A nested struct: `body` writes its fields. */
  struct(id: number, body: (w: this) => void): this {
    this.header(id, T.STRUCT);
    this.last.push(0);
    body(this);
    this.out.byte(0);
    this.last.pop();
    return this;
  }
  private listHeader(id: number, type: number, n: number): void {
    this.header(id, T.LIST);
    if (n < 15) this.out.byte((n << 4) | type);
    else {
      this.out.byte(0xf0 | type);
      this.out.uvarint(n);
    }
  }
  listI32(id: number, vs: readonly number[]): this {
    this.listHeader(id, T.I32, vs.length);
    for (const v of vs) this.out.varint(v);
    return this;
  }
  listI64(id: number, vs: readonly number[]): this {
    this.listHeader(id, T.I64, vs.length);
    for (const v of vs) this.out.varint(v);
    return this;
  }
  listBool(id: number, vs: readonly boolean[]): this {
    this.listHeader(id, T.TRUE, vs.length);
    for (const v of vs) this.out.byte(v ? 1 : 2);
    return this;
  }
  listBinary(id: number, vs: readonly (Uint8Array | string)[]): this {
    this.listHeader(id, T.BINARY, vs.length);
    for (const v of vs) {
      const b = typeof v === "string" ? utf8.encode(v) : v;
      this.out.uvarint(b.length);
      this.out.bytes(b);
    }
    return this;
  }
  listStruct<E>(id: number, vs: readonly E[], body: (w: this, e: E) => void): this {
    this.listHeader(id, T.STRUCT, vs.length);
    for (const v of vs) {
      this.last.push(0);
      body(this, v);
      this.out.byte(0);
      this.last.pop();
    }
    return this;
  }
  /** Ends the top-level struct. */
  end(): Uint8Array {
    this.out.byte(0);
    return this.out.view();
  }
}
