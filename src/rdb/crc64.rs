//! CRC-64 as Redis computes it for RDB files and DUMP payloads (the Jones polynomial,
//! reflected, initial value 0, no final xor), from the `crc` crate's catalogue entry.

use crc::{Crc, CRC_64_REDIS};

const REDIS: Crc<u64> = Crc::<u64>::new(&CRC_64_REDIS);

/// The CRC-64 of `data`.
pub fn crc64(data: &[u8]) -> u64 {
    REDIS.checksum(data)
}

#[cfg(test)]
mod tests {
    #[test]
    fn check_value() {
        // The check value Redis's own crc64 test uses.
        assert_eq!(super::crc64(b"123456789"), 0xe9c6_d914_c4b8_d9ca);
    }
}
