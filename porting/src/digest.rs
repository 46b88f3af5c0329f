//! Plain Rust, no binding: what both libraries compute from a set.

use std::collections::HashSet;

/// The values in ascending order, so a set's checksum does not depend on
/// the order its hash table happens to keep.
pub fn sorted(values: &HashSet<u32>) -> Vec<u32> {
    let mut sorted: Vec<u32> = values.iter().copied().collect();
    sorted.sort_unstable();
    sorted
}

pub fn crc32(bytes: &[u8]) -> u32 {
    let mut hasher = crc32fast::Hasher::new();
    hasher.update(bytes);
    hasher.finalize()
}

/// CRC-32 of the values in ascending order, each as four little-endian
/// bytes: `zlib.crc32(struct.pack("<%dI" % len(s), *sorted(s)))`.
pub fn crc32_of_values(values: &HashSet<u32>) -> u32 {
    let bytes: Vec<u8> = sorted(values)
        .iter()
        .flat_map(|value| value.to_le_bytes())
        .collect();
    crc32(&bytes)
}
