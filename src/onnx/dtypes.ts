/**
 * ONNX element types (TensorProto.DataType) by number, with the Open Inference Protocol v2 datatype each
 * maps to (null where OIP has none) and, for the types a writer can lay out as raw_data, the byte size.
 */
export interface DataTypeInfo {
  code: number;
  name: string;
  /** OIP v2 / KServe / Triton datatype name, or null. */
  oip: string | null;
  /** Bytes per element in raw_data, for fixed-size types. */
  bytes?: number;
}

const TABLE: DataTypeInfo[] = [
  { code: 0, name: "UNDEFINED", oip: null },
  { code: 1, name: "FLOAT", oip: "FP32", bytes: 4 },
  { code: 2, name: "UINT8", oip: "UINT8", bytes: 1 },
  { code: 3, name: "INT8", oip: "INT8", bytes: 1 },
  { code: 4, name: "UINT16", oip: "UINT16", bytes: 2 },
  { code: 5, name: "INT16", oip: "INT16", bytes: 2 },
  { code: 6, name: "INT32", oip: "INT32", bytes: 4 },
  { code: 7, name: "INT64", oip: "INT64", bytes: 8 },
  { code: 8, name: "STRING", oip: "BYTES" },
  { code: 9, name: "BOOL", oip: "BOOL", bytes: 1 },
  { code: 10, name: "FLOAT16", oip: "FP16", bytes: 2 },
  { code: 11, name: "DOUBLE", oip: "FP64", bytes: 8 },
  { code: 12, name: "UINT32", oip: "UINT32", bytes: 4 },
  { code: 13, name: "UINT64", oip: "UINT64", bytes: 8 },
  { code: 14, name: "COMPLEX64", oip: null, bytes: 8 },
  { code: 15, name: "COMPLEX128", oip: null, bytes: 16 },
  { code: 16, name: "BFLOAT16", oip: "BF16", bytes: 2 },
  { code: 17, name: "FLOAT8E4M3FN", oip: null, bytes: 1 },
  { code: 18, name: "FLOAT8E4M3FNUZ", oip: null, bytes: 1 },
  { code: 19, name: "FLOAT8E5M2", oip: null, bytes: 1 },
  { code: 20, name: "FLOAT8E5M2FNUZ", oip: null, bytes: 1 },
  { code: 21, name: "UINT4", oip: null },
  { code: 22, name: "INT4", oip: null },
  { code: 23, name: "FLOAT4E2M1", oip: null },
  { code: 24, name: "FLOAT8E8M0", oip: null, bytes: 1 },
];

const BY_CODE = new Map(TABLE.map((t) => [t.code, t]));
const BY_NAME = new Map(TABLE.map((t) => [t.name, t]));

/** The element type with this number; an unknown number (a newer ONNX) is named `TYPE_<n>`. */
export function dataTypeByCode(code: number): DataTypeInfo {
  return BY_CODE.get(code) ?? { code, name: `TYPE_${code}`, oip: null };
}

export function dataTypeByName(name: string): DataTypeInfo | undefined {
  return BY_NAME.get(name);
}

export type DataTypeName = (typeof TABLE)[number]["name"];
