import { describe, expect, it } from "vitest";
import { imageType, looksBinary, PREVIEW_LIMIT, previewKind } from "./artifact-kind";

describe("artifact previews", () => {
  it("picks the preview by extension, case-insensitively", () => {
    expect(previewKind("plots/roc.PNG")).toBe("image");
    expect(previewKind("metrics.json")).toBe("json");
    expect(previewKind("data/iris.csv")).toBe("csv");
    expect(previewKind("data/iris.tsv")).toBe("csv");
    expect(previewKind("model/MLmodel")).toBe("text");
    expect(previewKind("requirements.txt")).toBe("text");
    expect(previewKind("model/model.onnx")).toBeUndefined();
    expect(imageType("a.svg")).toBe("image/svg+xml");
    expect(PREVIEW_LIMIT.text).toBeLessThan(PREVIEW_LIMIT.image);
  });

  it("tells text from binary bytes, even when a prefix ends mid-character", () => {
    const enc = new TextEncoder();
    expect(looksBinary(enc.encode("plain text\nwith lines"))).toBe(false);
    expect(looksBinary(new Uint8Array([0x50, 0x4b, 0x03, 0x04, 0x00, 0x01]))).toBe(true);
    expect(looksBinary(new Uint8Array([0xff, 0xfe, 0x41]))).toBe(true);
    // 8000 ASCII bytes then "é" split across the 8000-byte sniffing window.
    const text = enc.encode(`${"a".repeat(7999)}é and more`);
    expect(looksBinary(text)).toBe(false);
  });
});
