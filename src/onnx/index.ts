/** ONNX files without a dependency: read a model's signature, write small models. Domain-free (serving, registry, quickstart). */
export { type DataTypeInfo, dataTypeByCode, dataTypeByName } from "./dtypes.js";
export { ProtobufError, Reader, Writer } from "./protobuf.js";
export {
  type ByteSource,
  type Dim,
  ONNX_LIMITS,
  OnnxFormatError,
  type OnnxSignature,
  type OnnxValue,
  readOnnxSignature,
  readOnnxSignatureFrom,
} from "./signature.js";
export {
  encodeOnnxModel,
  encodeTensor,
  logisticRegressionModel,
  type OnnxAttribute,
  type OnnxModelInit,
  type OnnxNodeInit,
  type OnnxTensorInit,
  type OnnxValueInit,
  type WritableDtype,
} from "./writer.js";
