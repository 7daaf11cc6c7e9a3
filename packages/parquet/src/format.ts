/** parquet-format enum values (parquet.thrift) used by the writer. */
export const PhysicalType = { BYTE_ARRAY: 6 } as const;
export const Repetition = { REQUIRED: 0, OPTIONAL: 1 } as const;
export const ConvertedType = { UTF8: 0 } as const;
export const PageType = { DATA_PAGE: 0, DICTIONARY_PAGE: 2, DATA_PAGE_V2: 3 } as const;
export const Codec = { UNCOMPRESSED: 0, SNAPPY: 1, ZSTD: 6 } as const;
export const Enc = {
  PLAIN: 0,
  RLE: 3,
  DELTA_BINARY_PACKED: 5,
  DELTA_LENGTH_BYTE_ARRAY: 6,
  DELTA_BYTE_ARRAY: 7,
  RLE_DICTIONARY: 8,
} as const;
export const BoundaryOrder = { UNORDERED: 0, ASCENDING: 1, DESCENDING: 2 } as const;

/** How a column's values are encoded in its data pages. */
export type ValueEncoding = "dictionary" | "plain" | "delta-byte-array" | "delta-length-byte-array";

export function encodingId(e: ValueEncoding): number {
  switch (e) {
    case "dictionary":
      return Enc.RLE_DICTIONARY;
    case "plain":
      return Enc.PLAIN;
    case "delta-byte-array":
      return Enc.DELTA_BYTE_ARRAY;
    case "delta-length-byte-array":
      return Enc.DELTA_LENGTH_BYTE_ARRAY;
  }
}

/** One leaf column of a flat schema of byte arrays (all parquet-common's columns are). */
export interface ColumnSpec {
  name: string;
  optional: boolean;
  /** Logical type STRING (converted type UTF8): the label columns. */
  string: boolean;
  encoding: ValueEncoding;
  /** No min/max in the page index nor the chunk statistics (parquet-go's SkipPageBounds). */
  skipPageBounds: boolean;
  /** Bits per distinct value of a split-block bloom filter, or 0 for none. */
  bloomBitsPerValue: number;
}
