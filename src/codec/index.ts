// The frame codec's public surface: framebuffers and rectangles, scaling, tile change
// detection, tile encoding and the update wire format (docs/codec.md).
export * from './framebuffer.js';
export * from './scale.js';
export * from './tiles.js';
export * from './encode-tiles.js';
export * from './update.js';
export * from './decode-update.js';
export * from './moves.js';
export * from './packed.js';
export * from './history.js';
