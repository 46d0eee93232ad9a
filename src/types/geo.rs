//! Geohashes as Redis computes them: 26 steps of longitude and latitude interleaved into a
//! 52-bit integer (the sorted-set score of a member), the nine-cell neighbourhood a search
//! walks, the haversine distance on Redis's sphere, and the partial quicksort Redis uses when
//! only the first COUNT results need ordering. The arithmetic follows Redis's operation for
//! operation, so coordinates and distances come out bit for bit the same.

/// Longitude limits.
pub const LON_MIN: f64 = -180.0;
/// Longitude limits.
pub const LON_MAX: f64 = 180.0;
/// Latitude limits of the Web Mercator square Redis indexes.
pub const LAT_MIN: f64 = -85.051_128_78;
/// Latitude limits of the Web Mercator square Redis indexes.
pub const LAT_MAX: f64 = 85.051_128_78;
/// Steps of a stored hash (26 × 2 = 52 bits).
pub const STEP_MAX: u8 = 26;
/// The sphere's radius in metres.
const EARTH_RADIUS: f64 = 6_372_797.560_856;
/// Half the Mercator world width in metres (the coarsest cell).
const MERCATOR_MAX: f64 = 20_037_726.37;
const D_R: f64 = std::f64::consts::PI / 180.0;

fn deg_rad(a: f64) -> f64 {
    a * D_R
}

fn rad_deg(a: f64) -> f64 {
    a / D_R
}

/// A hash of `step` steps (2 × step bits).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Hash {
    /// The interleaved bits: latitude in the even positions, longitude in the odd ones.
    pub bits: u64,
    /// Steps of precision; 0 with bits 0 means "no cell".
    pub step: u8,
}

impl Hash {
    fn is_zero(self) -> bool {
        self.bits == 0 && self.step == 0
    }
}

/// A range of one coordinate.
#[derive(Clone, Copy, Debug, Default)]
struct Range {
    min: f64,
    max: f64,
}

/// The cell a hash denotes.
#[derive(Clone, Copy, Debug, Default)]
pub struct Area {
    lon: Range,
    lat: Range,
}

const LON_RANGE: Range = Range {
    min: LON_MIN,
    max: LON_MAX,
};
const LAT_RANGE: Range = Range {
    min: LAT_MIN,
    max: LAT_MAX,
};

/// Spreads the low 32 bits of `x` and `y` to alternate bits, `x` in the even positions.
fn interleave(x: u32, y: u32) -> u64 {
    fn spread(v: u32) -> u64 {
        let mut v = u64::from(v);
        v = (v | (v << 16)) & 0x0000_FFFF_0000_FFFF;
        v = (v | (v << 8)) & 0x00FF_00FF_00FF_00FF;
        v = (v | (v << 4)) & 0x0F0F_0F0F_0F0F_0F0F;
        v = (v | (v << 2)) & 0x3333_3333_3333_3333;
        (v | (v << 1)) & 0x5555_5555_5555_5555
    }
    spread(x) | (spread(y) << 1)
}

/// The inverse of [`interleave`]: (even bits, odd bits).
fn deinterleave(v: u64) -> (u32, u32) {
    fn gather(mut v: u64) -> u32 {
        v &= 0x5555_5555_5555_5555;
        v = (v | (v >> 1)) & 0x3333_3333_3333_3333;
        v = (v | (v >> 2)) & 0x0F0F_0F0F_0F0F_0F0F;
        v = (v | (v >> 4)) & 0x00FF_00FF_00FF_00FF;
        v = (v | (v >> 8)) & 0x0000_FFFF_0000_FFFF;
        v = (v | (v >> 16)) & 0x0000_0000_FFFF_FFFF;
        v as u32
    }
    (gather(v), gather(v >> 1))
}

/// Encodes a point in the given ranges; None outside them (or outside Redis's own limits).
fn encode_in(lon_r: Range, lat_r: Range, lon: f64, lat: f64, step: u8) -> Option<Hash> {
    if step == 0 || step > 32 {
        return None;
    }
    if !(LON_MIN..=LON_MAX).contains(&lon) || !(LAT_MIN..=LAT_MAX).contains(&lat) {
        return None;
    }
    if lat < lat_r.min || lat > lat_r.max || lon < lon_r.min || lon > lon_r.max {
        return None;
    }
    let scale = (1u64 << step) as f64;
    let lat_off = (lat - lat_r.min) / (lat_r.max - lat_r.min) * scale;
    let lon_off = (lon - lon_r.min) / (lon_r.max - lon_r.min) * scale;
    Some(Hash {
        bits: interleave(lat_off as u32, lon_off as u32),
        step,
    })
}

/// Encodes a point in Redis's coordinate square.
pub fn encode(lon: f64, lat: f64, step: u8) -> Option<Hash> {
    encode_in(LON_RANGE, LAT_RANGE, lon, lat, step)
}

fn decode_in(lon_r: Range, lat_r: Range, h: Hash) -> Area {
    let (ilat, ilon) = deinterleave(h.bits);
    let scale = (1u64 << h.step) as f64;
    let lat_span = lat_r.max - lat_r.min;
    let lon_span = lon_r.max - lon_r.min;
    Area {
        lat: Range {
            min: lat_r.min + (f64::from(ilat) * 1.0 / scale) * lat_span,
            max: lat_r.min + ((f64::from(ilat) + 1.0) * 1.0 / scale) * lat_span,
        },
        lon: Range {
            min: lon_r.min + (f64::from(ilon) * 1.0 / scale) * lon_span,
            max: lon_r.min + ((f64::from(ilon) + 1.0) * 1.0 / scale) * lon_span,
        },
    }
}

/// The cell of a hash in Redis's coordinate square.
pub fn decode(h: Hash) -> Area {
    decode_in(LON_RANGE, LAT_RANGE, h)
}

/// The centre of a cell, clamped into the coordinate square.
fn centre(a: &Area) -> (f64, f64) {
    let lon = ((a.lon.min + a.lon.max) / 2.0).clamp(LON_MIN, LON_MAX);
    let lat = ((a.lat.min + a.lat.max) / 2.0).clamp(LAT_MIN, LAT_MAX);
    (lon, lat)
}

/// A stored score converted to hash bits as C converts a double to `uint64_t` on x86-64.
fn score_bits(score: f64) -> u64 {
    const TWO63: f64 = 9_223_372_036_854_775_808.0;
    // cvttsd2si: truncation, or the "integer indefinite" value out of range.
    let to_i64 = |d: f64| -> i64 {
        if (-TWO63..TWO63).contains(&d) {
            d as i64
        } else {
            i64::MIN
        }
    };
    if score < TWO63 {
        to_i64(score) as u64
    } else {
        (to_i64(score - TWO63) as u64) ^ (1u64 << 63)
    }
}

/// The (longitude, latitude) a stored score stands for: the centre of its 52-bit cell.
pub fn score_to_lonlat(score: f64) -> (f64, f64) {
    let h = Hash {
        bits: score_bits(score),
        step: STEP_MAX,
    };
    centre(&decode(h))
}

/// The score GEOADD stores for a point (None outside the coordinate square).
pub fn lonlat_to_score(lon: f64, lat: f64) -> Option<u64> {
    encode(lon, lat, STEP_MAX).map(align52)
}

/// A hash's bits moved to the top of 52.
fn align52(h: Hash) -> u64 {
    h.bits << (52 - u32::from(h.step) * 2)
}

/// The standard 11-character geohash GEOHASH prints for a stored score (latitude over ±90;
/// the last character is always `0`, as Redis has only 52 bits).
pub fn geohash_string(score: f64) -> String {
    const ALPHABET: &[u8; 32] = b"0123456789bcdefghjkmnpqrstuvwxyz";
    let (lon, lat) = score_to_lonlat(score);
    let wide_lat = Range {
        min: -90.0,
        max: 90.0,
    };
    let bits = encode_in(LON_RANGE, wide_lat, lon, lat, 26).map_or(0, |h| h.bits);
    (0..11)
        .map(|i| {
            let idx = if i == 10 {
                0
            } else {
                ((bits >> (52 - (i + 1) * 5)) & 0x1f) as usize
            };
            char::from(ALPHABET[idx])
        })
        .collect()
}

/// Distance along a meridian in metres.
fn lat_distance(lat1: f64, lat2: f64) -> f64 {
    EARTH_RADIUS * (deg_rad(lat2) - deg_rad(lat1)).abs()
}

/// The haversine distance in metres between two points.
pub fn distance(lon1: f64, lat1: f64, lon2: f64, lat2: f64) -> f64 {
    let lon1r = deg_rad(lon1);
    let lon2r = deg_rad(lon2);
    let v = ((lon2r - lon1r) / 2.0).sin();
    if v == 0.0 {
        return lat_distance(lat1, lat2);
    }
    let lat1r = deg_rad(lat1);
    let lat2r = deg_rad(lat2);
    let u = ((lat2r - lat1r) / 2.0).sin();
    let a = u * u + lat1r.cos() * lat2r.cos() * v * v;
    2.0 * EARTH_RADIUS * a.sqrt().asin()
}

/// What a search covers.
#[derive(Clone, Copy, Debug)]
pub enum Shape {
    /// A circle of this radius (in the unit).
    Radius(f64),
    /// A box of this width and height (in the unit), centred on the point.
    Box(f64, f64),
}

/// A search: centre, shape and the unit's size in metres.
#[derive(Clone, Copy, Debug)]
pub struct Search {
    /// Centre longitude.
    pub lon: f64,
    /// Centre latitude.
    pub lat: f64,
    /// The shape.
    pub shape: Shape,
    /// Metres per unit.
    pub unit: f64,
}

impl Search {
    /// Whether the point is inside the shape; its distance from the centre in metres if so.
    pub fn contains(&self, lon: f64, lat: f64) -> Option<f64> {
        match self.shape {
            Shape::Radius(r) => {
                let d = distance(self.lon, self.lat, lon, lat);
                (d <= r * self.unit).then_some(d)
            }
            Shape::Box(w, h) => {
                let (w, h) = (w * self.unit, h * self.unit);
                if lat_distance(lat, self.lat) > h / 2.0 {
                    return None;
                }
                if distance(lon, lat, self.lon, lat) > w / 2.0 {
                    return None;
                }
                Some(distance(self.lon, self.lat, lon, lat))
            }
        }
    }

    /// The bounding box (min lon, min lat, max lon, max lat).
    fn bounds(&self) -> [f64; 4] {
        let (half_h, half_w) = match self.shape {
            Shape::Radius(r) => (self.unit * r, self.unit * r),
            Shape::Box(w, h) => (self.unit * (h / 2.0), self.unit * (w / 2.0)),
        };
        let lat_delta = rad_deg(half_h / EARTH_RADIUS);
        let lon_delta_top = rad_deg(half_w / EARTH_RADIUS / deg_rad(self.lat + lat_delta).cos());
        let lon_delta_bottom = rad_deg(half_w / EARTH_RADIUS / deg_rad(self.lat - lat_delta).cos());
        let south = self.lat < 0.0;
        let d = if south {
            lon_delta_bottom
        } else {
            lon_delta_top
        };
        [
            self.lon - d,
            self.lat - lat_delta,
            self.lon + d,
            self.lat + lat_delta,
        ]
    }

    /// The radius (metres) the cell size is chosen from.
    fn radius_m(&self) -> f64 {
        let r = match self.shape {
            Shape::Radius(r) => r,
            Shape::Box(w, h) => ((w / 2.0) * (w / 2.0) + (h / 2.0) * (h / 2.0)).sqrt(),
        };
        r * self.unit
    }

    /// The cells to scan, in Redis's order (centre, N, S, E, W, NE, NW, SE, SW); cells that
    /// cannot hold results are zero hashes.
    pub fn cells(&self) -> [Hash; 9] {
        let [min_lon, min_lat, max_lon, max_lat] = self.bounds();
        let mut steps = estimate_steps(self.radius_m(), self.lat);
        let mut hash = encode(self.lon, self.lat, steps).unwrap_or_default();
        let mut n = neighbours(hash);
        let mut area = decode(hash);
        let too_coarse = decode(n[1]).lat.max < max_lat
            || decode(n[2]).lat.min > min_lat
            || decode(n[3]).lon.max < max_lon
            || decode(n[4]).lon.min > min_lon;
        if steps > 1 && too_coarse {
            steps -= 1;
            hash = encode(self.lon, self.lat, steps).unwrap_or_default();
            n = neighbours(hash);
            area = decode(hash);
        }
        if steps >= 2 {
            // A side of the centre cell beyond the search area: the row or column of cells
            // past it (S, SE, SW / N, NE, NW / W, SW, NW / E, SE, NE) holds nothing to find.
            let sides = [
                (area.lat.min < min_lat, [2, 8, 7]),
                (area.lat.max > max_lat, [1, 5, 6]),
                (area.lon.min < min_lon, [4, 8, 6]),
                (area.lon.max > max_lon, [3, 7, 5]),
            ];
            for (beyond, cells) in sides {
                if beyond {
                    for i in cells {
                        n[i] = Hash::default();
                    }
                }
            }
        }
        n[0] = hash;
        n
    }
}

/// The score range [min, max) of the stored points inside a cell.
pub fn cell_scores(h: Hash) -> (f64, f64) {
    let min = align52(h);
    let max = align52(Hash {
        bits: h.bits.wrapping_add(1),
        step: h.step,
    });
    (min as f64, max as f64)
}

/// How many steps a cell needs to cover `range_m` metres around latitude `lat`.
fn estimate_steps(mut range_m: f64, lat: f64) -> u8 {
    if range_m == 0.0 {
        return 26;
    }
    let mut step: i32 = 1;
    while range_m < MERCATOR_MAX {
        range_m *= 2.0;
        step += 1;
    }
    step -= 2;
    if !(-66.0..=66.0).contains(&lat) {
        step -= 1;
        if !(-80.0..=80.0).contains(&lat) {
            step -= 1;
        }
    }
    step.clamp(1, 26) as u8
}

/// The interleaved bits of longitude (x) and latitude (y) in a hash.
const X_BITS: u64 = 0xaaaa_aaaa_aaaa_aaaa;
const Y_BITS: u64 = 0x5555_5555_5555_5555;

/// Moves a cell `d` steps (-1, 0 or 1) along the axis whose bits are `axis`, leaving the
/// other axis alone: the axis's bits are counted up or down as one number by filling the gaps
/// between them with ones, then masked back.
fn move_along(h: &mut Hash, d: i8, axis: u64) {
    if d == 0 {
        return;
    }
    let shift = 64 - u32::from(h.step) * 2;
    let mut moving = h.bits & axis;
    let fixed = h.bits & !axis;
    let gaps = (!axis).checked_shr(shift).unwrap_or(0);
    if d > 0 {
        moving = moving.wrapping_add(gaps.wrapping_add(1));
    } else {
        moving |= gaps;
        moving = moving.wrapping_sub(gaps.wrapping_add(1));
    }
    moving &= axis.checked_shr(shift).unwrap_or(0);
    h.bits = moving | fixed;
}

/// The eight neighbours in slots 1..=8 (N, S, E, W, NE, NW, SE, SW); slot 0 is left for the
/// centre.
fn neighbours(h: Hash) -> [Hash; 9] {
    let moves: [(i8, i8); 9] = [
        (0, 0),
        (0, 1),
        (0, -1),
        (1, 0),
        (-1, 0),
        (1, 1),
        (-1, 1),
        (1, -1),
        (-1, -1),
    ];
    moves.map(|(dx, dy)| {
        let mut n = h;
        move_along(&mut n, dx, X_BITS);
        move_along(&mut n, dy, Y_BITS);
        n
    })
}

/// Whether a cell must be scanned, given the one scanned last (Redis skips a cell equal to
/// the previous one, except right after the centre).
pub fn skip_cell(cells: &[Hash; 9], i: usize, last: usize) -> bool {
    cells[i].is_zero() || (last != 0 && cells[i] == cells[last])
}

/// Redis's partial quicksort (`pqsort`): sorts enough of `v` that the elements at positions
/// `lo..=hi` are the ones a full sort would put there, leaving equal elements where Redis does.
pub fn partial_sort<T>(
    v: &mut [T],
    cmp: &impl Fn(&T, &T) -> std::cmp::Ordering,
    lo: usize,
    hi: usize,
) {
    let (lo, hi) = (
        i64::try_from(lo).unwrap_or(i64::MAX),
        i64::try_from(hi).unwrap_or(i64::MAX),
    );
    crate::util::pqsort::partial_sort(v, lo, hi, &mut |a, b| cmp(a, b));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scores_round_trip_to_cell_centres() {
        let s = lonlat_to_score(13.361389, 38.115556).unwrap();
        assert_eq!(s, 3_479_099_956_230_698);
        let (lon, lat) = score_to_lonlat(s as f64);
        assert!((lon - 13.361389).abs() < 1e-5 && (lat - 38.115556).abs() < 1e-5);
        assert_eq!(geohash_string(s as f64), "sqc8b49rny0");
    }

    #[test]
    fn out_of_range_points_do_not_encode() {
        assert!(lonlat_to_score(181.0, 0.0).is_none());
        assert!(lonlat_to_score(0.0, 86.0).is_none());
        assert!(lonlat_to_score(180.0, LAT_MAX).is_some());
    }

    #[test]
    fn haversine_matches_redis_example() {
        let (a, b) = (
            score_to_lonlat(3_479_099_956_230_698.0),
            score_to_lonlat(3_479_447_370_796_909.0),
        );
        let d = distance(a.0, a.1, b.0, b.1);
        assert!((d - 166_274.151_6).abs() < 0.001, "{}", d);
    }

    #[test]
    fn interleave_round_trips() {
        let v = interleave(0x1234_5678, 0x0abc_def0);
        assert_eq!(deinterleave(v), (0x1234_5678, 0x0abc_def0));
    }

    #[test]
    fn partial_sort_orders_the_wanted_prefix() {
        let mut v: Vec<u32> = (0..100).map(|i| (i * 37) % 101).collect();
        partial_sort(&mut v, &|a: &u32, b: &u32| a.cmp(b), 0, 9);
        let mut all: Vec<u32> = (0..100).map(|i| (i * 37) % 101).collect();
        all.sort();
        assert_eq!(&v[..10], &all[..10]);
    }
}
