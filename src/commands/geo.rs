//! The geo group: GEOADD, GEODIST, GEOHASH, GEOPOS, GEOSEARCH, GEOSEARCHSTORE, GEORADIUS,
//! GEORADIUS_RO, GEORADIUSBYMEMBER, GEORADIUSBYMEMBER_RO.
//!
//! Points are members of a sorted set whose score is the 52-bit geohash (see
//! [`crate::types::geo`]). GEOADD is ZADD with computed scores, as in Redis. Searches walk the
//! same nine cells in the same order and sort with the same algorithms, so results, their
//! order, and every printed digit match Redis.

use std::cmp::Ordering;

use super::args;
use super::spec::*;
use crate::engine::Ctx;
use crate::error::{self, CmdError, CmdResult};
use crate::protocol::Reply;
use crate::types::geo::{self, Search, Shape};
use crate::types::zset::{Limits, ScoreRange, ZSet};
use crate::types::Value;
use crate::util::parse_f64;

const RADIUS_KEYS: &[KeySpec] = &[
    KeySpec::new(&[RO, ACCESS], index(1), range(0, 1, 0)),
    KeySpec::new(&[OW, UPDATE], keyword("STORE", 6), range(0, 1, 0)),
    KeySpec::new(&[OW, UPDATE], keyword("STOREDIST", 6), range(0, 1, 0)),
];
const BYMEMBER_KEYS: &[KeySpec] = &[
    KeySpec::new(&[RO, ACCESS], index(1), range(0, 1, 0)),
    KeySpec::new(&[OW, UPDATE], keyword("STORE", 5), range(0, 1, 0)),
    KeySpec::new(&[OW, UPDATE], keyword("STOREDIST", 5), range(0, 1, 0)),
];
const SEARCH_COMPLEXITY: &str =
    "O(N+log(M)): N members in the grid cells covering the shape, M members inside it.";

/// The geo group's commands.
pub const COMMANDS: &[CommandSpec] = &[
    CommandSpec::new("geoadd", -5, &[WRITE, DENYOOM], geoadd).doc(Group::Geo, "3.2.0", &[Arg::key("key", 0), Arg::oneof("condition", &[Arg::token("nx", "NX"), Arg::token("xx", "XX")]).optional().since("6.2.0"), Arg::token("change", "CH").optional().since("6.2.0"), Arg::block("longitude_latitude_member", &[Arg::double("longitude"), Arg::double("latitude"), Arg::string("member")]).multiple()], "Adds points (longitude, latitude, name) to a geo index kept in a sorted set.").key_specs(&[KeySpec::new(&[RW, UPDATE], index(1), range(0, 1, 0))]).complexity("O(log(N)) per member added, N being the sorted set's size."),
    CommandSpec::new("geodist", -4, &[READONLY], geodist).doc(Group::Geo, "3.2.0", &[Arg::key("key", 0), Arg::string("member1"), Arg::string("member2"), Arg::oneof("unit", &[Arg::token("m", "M"), Arg::token("km", "KM"), Arg::token("ft", "FT"), Arg::token("mi", "MI")]).optional()], "Replies the distance between two points of a geo index, in the unit asked.").key_specs(&[KeySpec::new(&[RO, ACCESS], index(1), range(0, 1, 0))]).complexity("O(log(N))"),
    CommandSpec::new("geohash", -2, &[READONLY], geohash).doc(Group::Geo, "3.2.0", &[Arg::key("key", 0), Arg::string("member").multiple()], "Replies the standard geohash string of points of a geo index.").key_specs(&[KeySpec::new(&[RO, ACCESS], index(1), range(0, 1, 0))]).complexity("O(log(N)) per member asked for, N being the sorted set's size."),
    CommandSpec::new("geopos", -2, &[READONLY], geopos).doc(Group::Geo, "3.2.0", &[Arg::key("key", 0), Arg::string("member").multiple()], "Replies the longitude and latitude of points of a geo index.").key_specs(&[KeySpec::new(&[RO, ACCESS], index(1), range(0, 1, 0))]).complexity("O(N), N being the members asked for."),
    CommandSpec::new("georadius", -6, &[WRITE, DENYOOM], georadius).doc(Group::Geo, "3.2.0", &[Arg::key("key", 0), Arg::double("longitude"), Arg::double("latitude"), Arg::double("radius"), Arg::oneof("unit", &[Arg::token("m", "M"), Arg::token("km", "KM"), Arg::token("ft", "FT"), Arg::token("mi", "MI")]), Arg::token("withcoord", "WITHCOORD").optional(), Arg::token("withdist", "WITHDIST").optional(), Arg::token("withhash", "WITHHASH").optional(), Arg::block("count", &[Arg::integer("count").with_token("COUNT"), Arg::token("any", "ANY").optional().since("6.2.0")]).optional(), Arg::oneof("order", &[Arg::token("asc", "ASC"), Arg::token("desc", "DESC")]).optional(), Arg::key("key", 1).with_token("STORE").optional(), Arg::key("key", 2).with_token("STOREDIST").optional()], "Finds the points within a radius of a position, optionally storing them (deprecated: GEOSEARCH).").key_specs(RADIUS_KEYS).complexity(SEARCH_COMPLEXITY),
    CommandSpec::new("georadius_ro", -6, &[READONLY], georadius_ro).doc(Group::Geo, "3.2.10", &[Arg::key("key", 0), Arg::double("longitude"), Arg::double("latitude"), Arg::double("radius"), Arg::oneof("unit", &[Arg::token("m", "M"), Arg::token("km", "KM"), Arg::token("ft", "FT"), Arg::token("mi", "MI")]), Arg::token("withcoord", "WITHCOORD").optional(), Arg::token("withdist", "WITHDIST").optional(), Arg::token("withhash", "WITHHASH").optional(), Arg::block("count", &[Arg::integer("count").with_token("COUNT"), Arg::token("any", "ANY").optional().since("6.2.0")]).optional(), Arg::oneof("order", &[Arg::token("asc", "ASC"), Arg::token("desc", "DESC")]).optional()], "Finds the points within a radius of a position (deprecated: GEOSEARCH).").key_specs(&[KeySpec::new(&[RO, ACCESS], index(1), range(0, 1, 0))]).complexity(SEARCH_COMPLEXITY),
    CommandSpec::new("georadiusbymember", -5, &[WRITE, DENYOOM], georadiusbymember).doc(Group::Geo, "3.2.0", &[Arg::key("key", 0), Arg::string("member"), Arg::double("radius"), Arg::oneof("unit", &[Arg::token("m", "M"), Arg::token("km", "KM"), Arg::token("ft", "FT"), Arg::token("mi", "MI")]), Arg::token("withcoord", "WITHCOORD").optional(), Arg::token("withdist", "WITHDIST").optional(), Arg::token("withhash", "WITHHASH").optional(), Arg::block("count", &[Arg::integer("count").with_token("COUNT"), Arg::token("any", "ANY").optional()]).optional(), Arg::oneof("order", &[Arg::token("asc", "ASC"), Arg::token("desc", "DESC")]).optional(), Arg::key("key", 1).with_token("STORE").optional(), Arg::key("key", 2).with_token("STOREDIST").optional()], "Finds the points within a radius of a member, optionally storing them (deprecated: GEOSEARCH).").key_specs(BYMEMBER_KEYS).complexity(SEARCH_COMPLEXITY),
    CommandSpec::new("georadiusbymember_ro", -5, &[READONLY], georadiusbymember_ro).doc(Group::Geo, "3.2.10", &[Arg::key("key", 0), Arg::string("member"), Arg::double("radius"), Arg::oneof("unit", &[Arg::token("m", "M"), Arg::token("km", "KM"), Arg::token("ft", "FT"), Arg::token("mi", "MI")]), Arg::token("withcoord", "WITHCOORD").optional(), Arg::token("withdist", "WITHDIST").optional(), Arg::token("withhash", "WITHHASH").optional(), Arg::block("count", &[Arg::integer("count").with_token("COUNT"), Arg::token("any", "ANY").optional()]).optional(), Arg::oneof("order", &[Arg::token("asc", "ASC"), Arg::token("desc", "DESC")]).optional()], "Finds the points within a radius of a member (deprecated: GEOSEARCH).").key_specs(&[KeySpec::new(&[RO, ACCESS], index(1), range(0, 1, 0))]).complexity(SEARCH_COMPLEXITY),
    CommandSpec::new("geosearch", -7, &[READONLY], geosearch).doc(Group::Geo, "6.2.0", &[Arg::key("key", 0), Arg::oneof("from", &[Arg::string("member").with_token("FROMMEMBER"), Arg::block("longitude_latitude", &[Arg::double("longitude"), Arg::double("latitude")]).with_token("FROMLONLAT")]), Arg::oneof("by", &[Arg::block("circle", &[Arg::double("radius").with_token("BYRADIUS"), Arg::oneof("unit", &[Arg::token("m", "M"), Arg::token("km", "KM"), Arg::token("ft", "FT"), Arg::token("mi", "MI")])]), Arg::block("box", &[Arg::double("width").with_token("BYBOX"), Arg::double("height"), Arg::oneof("unit", &[Arg::token("m", "M"), Arg::token("km", "KM"), Arg::token("ft", "FT"), Arg::token("mi", "MI")])])]), Arg::oneof("order", &[Arg::token("asc", "ASC"), Arg::token("desc", "DESC")]).optional(), Arg::block("count", &[Arg::integer("count").with_token("COUNT"), Arg::token("any", "ANY").optional()]).optional(), Arg::token("withcoord", "WITHCOORD").optional(), Arg::token("withdist", "WITHDIST").optional(), Arg::token("withhash", "WITHHASH").optional()], "Finds the points of a geo index inside a circle or a box around a member or a position.").key_specs(&[KeySpec::new(&[RO, ACCESS], index(1), range(0, 1, 0))]).complexity(SEARCH_COMPLEXITY),
    CommandSpec::new("geosearchstore", -8, &[WRITE, DENYOOM], geosearchstore).doc(Group::Geo, "6.2.0", &[Arg::key("destination", 0), Arg::key("source", 1), Arg::oneof("from", &[Arg::string("member").with_token("FROMMEMBER"), Arg::block("longitude_latitude", &[Arg::double("longitude"), Arg::double("latitude")]).with_token("FROMLONLAT")]), Arg::oneof("by", &[Arg::block("circle", &[Arg::double("radius").with_token("BYRADIUS"), Arg::oneof("unit", &[Arg::token("m", "M"), Arg::token("km", "KM"), Arg::token("ft", "FT"), Arg::token("mi", "MI")])]), Arg::block("box", &[Arg::double("width").with_token("BYBOX"), Arg::double("height"), Arg::oneof("unit", &[Arg::token("m", "M"), Arg::token("km", "KM"), Arg::token("ft", "FT"), Arg::token("mi", "MI")])])]), Arg::oneof("order", &[Arg::token("asc", "ASC"), Arg::token("desc", "DESC")]).optional(), Arg::block("count", &[Arg::integer("count").with_token("COUNT"), Arg::token("any", "ANY").optional()]).optional(), Arg::token("storedist", "STOREDIST").optional()], "Stores the points GEOSEARCH would find in a sorted set (scores: geohashes or distances).").key_specs(&[KeySpec::new(&[OW, UPDATE], index(1), range(0, 1, 0)), KeySpec::new(&[RO, ACCESS], index(2), range(0, 1, 0))]).complexity(SEARCH_COMPLEXITY),
];

/// A float argument, with `msg` (ERR prefix added) when it is not one.
fn float_or(arg: &[u8], msg: &'static str) -> Result<f64, CmdError> {
    parse_f64(arg).ok_or_else(|| CmdError::err(msg))
}

/// A longitude/latitude pair inside Redis's square.
fn lonlat(lon: &[u8], lat: &[u8]) -> Result<(f64, f64), CmdError> {
    let x = args::float(lon)?;
    let y = args::float(lat)?;
    if !(geo::LON_MIN..=geo::LON_MAX).contains(&x) || !(geo::LAT_MIN..=geo::LAT_MAX).contains(&y) {
        return Err(error::geo_pair(x, y));
    }
    Ok((x, y))
}

/// Metres per unit: M, KM, FT, MI.
fn unit(arg: &[u8]) -> Result<f64, CmdError> {
    if args::is(arg, "m") {
        Ok(1.0)
    } else if args::is(arg, "km") {
        Ok(1000.0)
    } else if args::is(arg, "ft") {
        Ok(0.3048)
    } else if args::is(arg, "mi") {
        Ok(1609.34)
    } else {
        Err(error::GEO_UNIT)
    }
}

/// `radius unit` → (radius, metres per unit).
fn radius_unit(r: &[u8], u: &[u8]) -> Result<(f64, f64), CmdError> {
    let d = float_or(r, "need numeric radius")?;
    if d < 0.0 {
        return Err(error::GEO_RADIUS_NEGATIVE);
    }
    Ok((d, unit(u)?))
}

/// `width height unit` → (width, height, metres per unit).
fn box_unit(w: &[u8], h: &[u8], u: &[u8]) -> Result<(f64, f64, f64), CmdError> {
    let w = float_or(w, "need numeric width")?;
    let h = float_or(h, "need numeric height")?;
    if h < 0.0 || w < 0.0 {
        return Err(error::GEO_BOX_NEGATIVE);
    }
    Ok((w, h, unit(u)?))
}

/// A distance as Redis prints it: rounded to four decimals, always with four.
fn fmt_distance(d: f64) -> Vec<u8> {
    if d == 0.0 {
        return b"0.0000".to_vec();
    }
    let scaled = (d * 10_000.0).round_ties_even();
    let v = scaled.abs() as u64;
    let sign = if scaled < 0.0 { "-" } else { "" };
    format!("{}{}.{:04}", sign, v / 10_000, v % 10_000).into_bytes()
}

/// A coordinate as Redis prints it in RESP2: 17 decimals, trailing zeros dropped.
fn fmt_coord(d: f64) -> Vec<u8> {
    let s = format!("{:.17}", d);
    let s = s.trim_end_matches('0').trim_end_matches('.');
    let s = if s == "-0" { "0" } else { s };
    s.as_bytes().to_vec()
}

/// A coordinate reply: a bulk string in RESP2, a double in RESP3.
fn coord_reply(ctx: &Ctx, d: f64) -> Reply {
    if ctx.eng.proto(ctx.client) == 3 {
        Reply::DoubleText(String::from_utf8_lossy(&fmt_coord(d)).into_owned())
    } else {
        Reply::Bulk(fmt_coord(d))
    }
}

/// The sorted set under `key` for reading (lookup counted), WRONGTYPE for another type.
fn read_zset<'a>(ctx: &'a mut Ctx, key: &[u8]) -> Result<Option<&'a ZSet>, CmdError> {
    match ctx.lookup_read(key) {
        None => Ok(None),
        Some(e) => match &e.value {
            Value::ZSet(z) => Ok(Some(z)),
            _ => Err(error::WRONGTYPE),
        },
    }
}

/// `GEOADD key [NX|XX] [CH] lon lat member ...` → as ZADD: the number of members added (or
/// changed with CH).
fn geoadd(ctx: &mut Ctx, argv: &[Vec<u8>]) -> CmdResult {
    let mut first = 2;
    let (mut nx, mut xx) = (false, false);
    while first < argv.len() {
        let a = &argv[first];
        if args::is(a, "nx") {
            nx = true;
        } else if args::is(a, "xx") {
            xx = true;
        } else if !args::is(a, "ch") {
            break;
        }
        first += 1;
    }
    if !(argv.len() - first).is_multiple_of(3) || (nx && xx) {
        return Err(error::SYNTAX);
    }
    let mut zadd_argv: Vec<Vec<u8>> = Vec::with_capacity(argv.len());
    zadd_argv.push(b"zadd".to_vec());
    zadd_argv.extend(argv[1..first].iter().cloned());
    for point in argv[first..].chunks(3) {
        let (x, y) = lonlat(&point[0], &point[1])?;
        let score = geo::lonlat_to_score(x, y).unwrap_or(0);
        zadd_argv.push(score.to_string().into_bytes());
        zadd_argv.push(point[2].clone());
    }
    let zadd = super::lookup(b"zadd").ok_or(error::SYNTAX)?;
    let reply = (zadd.handler)(ctx, &zadd_argv)?;
    // Redis runs (and so propagates) the ZADD it built.
    ctx.propagate_as(zadd_argv);
    Ok(reply)
}

/// `GEODIST key member1 member2 [unit]` → the distance as a string with four decimals, or nil.
fn geodist(ctx: &mut Ctx, argv: &[Vec<u8>]) -> CmdResult {
    let per_unit = match argv.len() {
        4 => 1.0,
        5 => unit(&argv[4])?,
        _ => return Err(error::SYNTAX),
    };
    let Some(z) = read_zset(ctx, &argv[1])? else {
        return Ok(Reply::Nil);
    };
    let (Some(a), Some(b)) = (z.score(&argv[2]), z.score(&argv[3])) else {
        return Ok(Reply::Nil);
    };
    let (a, b) = (geo::score_to_lonlat(a), geo::score_to_lonlat(b));
    let d = geo::distance(a.0, a.1, b.0, b.1) / per_unit;
    Ok(Reply::Bulk(fmt_distance(d)))
}

/// `GEOHASH key [member ...]` → an 11-character geohash (or nil) per member.
fn geohash(ctx: &mut Ctx, argv: &[Vec<u8>]) -> CmdResult {
    let z = read_zset(ctx, &argv[1])?;
    let out = argv[2..]
        .iter()
        .map(|m| match z.and_then(|z| z.score(m)) {
            Some(s) => Reply::bulk(geo::geohash_string(s)),
            None => Reply::Nil,
        })
        .collect();
    Ok(Reply::Array(out))
}

/// `GEOPOS key [member ...]` → [longitude, latitude] (or a nil array) per member.
fn geopos(ctx: &mut Ctx, argv: &[Vec<u8>]) -> CmdResult {
    let scores: Vec<Option<f64>> = {
        let z = read_zset(ctx, &argv[1])?;
        argv[2..]
            .iter()
            .map(|m| z.and_then(|z| z.score(m)))
            .collect()
    };
    let out = scores
        .into_iter()
        .map(|s| match s {
            Some(s) => {
                let (x, y) = geo::score_to_lonlat(s);
                Reply::Array(vec![coord_reply(ctx, x), coord_reply(ctx, y)])
            }
            None => Reply::NilArray,
        })
        .collect();
    Ok(Reply::Array(out))
}

/// Which command of the search family is running.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Variant {
    /// GEORADIUS[_RO]: around coordinates.
    Coords { store: bool },
    /// GEORADIUSBYMEMBER[_RO]: around a member.
    Member { store: bool },
    /// GEOSEARCH / GEOSEARCHSTORE.
    Search { store: bool },
}

fn georadius(ctx: &mut Ctx, argv: &[Vec<u8>]) -> CmdResult {
    search_generic(ctx, argv, 1, Variant::Coords { store: true })
}

fn georadius_ro(ctx: &mut Ctx, argv: &[Vec<u8>]) -> CmdResult {
    search_generic(ctx, argv, 1, Variant::Coords { store: false })
}

fn georadiusbymember(ctx: &mut Ctx, argv: &[Vec<u8>]) -> CmdResult {
    search_generic(ctx, argv, 1, Variant::Member { store: true })
}

fn georadiusbymember_ro(ctx: &mut Ctx, argv: &[Vec<u8>]) -> CmdResult {
    search_generic(ctx, argv, 1, Variant::Member { store: false })
}

fn geosearch(ctx: &mut Ctx, argv: &[Vec<u8>]) -> CmdResult {
    search_generic(ctx, argv, 1, Variant::Search { store: false })
}

fn geosearchstore(ctx: &mut Ctx, argv: &[Vec<u8>]) -> CmdResult {
    search_generic(ctx, argv, 2, Variant::Search { store: true })
}

/// The centre of a search around a member: the member's stored point.
fn member_point(z: &ZSet, member: &[u8]) -> Result<(f64, f64), CmdError> {
    z.score(member)
        .map(geo::score_to_lonlat)
        .ok_or(error::GEO_MEMBER)
}

/// One point found by a search.
struct Found {
    member: Vec<u8>,
    score: f64,
    dist: f64,
    lon: f64,
    lat: f64,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Sort {
    None,
    Asc,
    Desc,
}

/// The search options after the fixed arguments.
struct Options<'a> {
    with_dist: bool,
    with_hash: bool,
    with_coord: bool,
    any: bool,
    sort: Sort,
    count: i64,
    store: Option<&'a [u8]>,
    store_dist: bool,
    from_member: bool,
    from_lonlat: bool,
    by_radius: bool,
    by_box: bool,
}

/// GEORADIUS, GEORADIUSBYMEMBER (and their _RO forms), GEOSEARCH and GEOSEARCHSTORE, checked
/// in Redis's order: the key's type, the fixed arguments, then the options one by one.
fn search_generic(ctx: &mut Ctx, argv: &[Vec<u8>], src: usize, variant: Variant) -> CmdResult {
    let zset: Option<ZSet> = read_zset(ctx, &argv[src])?.cloned();
    let z = zset.as_ref();
    let mut centre = (0.0, 0.0);
    let mut shape = Shape::Radius(0.0);
    let mut per_unit = 0.0;
    let base = match variant {
        Variant::Coords { .. } => {
            centre = lonlat(&argv[2], &argv[3])?;
            let (r, u) = radius_unit(&argv[4], &argv[5])?;
            shape = Shape::Radius(r);
            per_unit = u;
            6
        }
        Variant::Member { .. } => {
            if let Some(z) = z {
                centre = member_point(z, &argv[2])?;
                let (r, u) = radius_unit(&argv[3], &argv[4])?;
                shape = Shape::Radius(r);
                per_unit = u;
            }
            5
        }
        Variant::Search { store } => {
            if store {
                3
            } else {
                2
            }
        }
    };
    let searching = matches!(variant, Variant::Search { .. });
    let may_store = matches!(
        variant,
        Variant::Coords { store: true } | Variant::Member { store: true }
    );
    let mut o = Options {
        with_dist: false,
        with_hash: false,
        with_coord: false,
        any: false,
        sort: Sort::None,
        count: 0,
        store: None,
        store_dist: false,
        from_member: false,
        from_lonlat: false,
        by_radius: false,
        by_box: false,
    };
    if let Variant::Search { store: true } = variant {
        o.store = Some(&argv[1]);
    }
    let rest = &argv[base.min(argv.len())..];
    let mut i = 0;
    while i < rest.len() {
        let a = &rest[i];
        let left = rest.len() - i - 1;
        if args::is(a, "withdist") {
            o.with_dist = true;
        } else if args::is(a, "withhash") {
            o.with_hash = true;
        } else if args::is(a, "withcoord") {
            o.with_coord = true;
        } else if args::is(a, "any") {
            o.any = true;
        } else if args::is(a, "asc") {
            o.sort = Sort::Asc;
        } else if args::is(a, "desc") {
            o.sort = Sort::Desc;
        } else if args::is(a, "count") && left >= 1 {
            o.count = args::int(&rest[i + 1])?;
            if o.count <= 0 {
                return Err(error::COUNT_ABOVE_ZERO);
            }
            i += 1;
        } else if (args::is(a, "store") || args::is(a, "storedist")) && left >= 1 && may_store {
            o.store = Some(&rest[i + 1]);
            o.store_dist = args::is(a, "storedist");
            i += 1;
        } else if args::is(a, "storedist") && matches!(variant, Variant::Search { store: true }) {
            o.store_dist = true;
        } else if args::is(a, "frommember") && left >= 1 && searching && !o.from_lonlat {
            if let Some(z) = z {
                centre = member_point(z, &rest[i + 1])?;
            }
            o.from_member = true;
            i += 1;
        } else if args::is(a, "fromlonlat") && left >= 2 && searching && !o.from_member {
            centre = lonlat(&rest[i + 1], &rest[i + 2])?;
            o.from_lonlat = true;
            i += 2;
        } else if args::is(a, "byradius") && left >= 2 && searching && !o.by_box {
            let (r, u) = radius_unit(&rest[i + 1], &rest[i + 2])?;
            shape = Shape::Radius(r);
            per_unit = u;
            o.by_radius = true;
            i += 2;
        } else if args::is(a, "bybox") && left >= 3 && searching && !o.by_radius {
            let (w, h, u) = box_unit(&rest[i + 1], &rest[i + 2], &rest[i + 3])?;
            shape = Shape::Box(w, h);
            per_unit = u;
            o.by_box = true;
            i += 3;
        } else {
            return Err(error::SYNTAX);
        }
        i += 1;
    }
    if o.store.is_some() && (o.with_dist || o.with_hash || o.with_coord) {
        let what = if matches!(variant, Variant::Search { store: true }) {
            "GEOSEARCHSTORE"
        } else {
            "STORE option in GEORADIUS"
        };
        return Err(CmdError::err(format!(
            "{} is not compatible with WITHDIST, WITHHASH and WITHCOORD options",
            what
        )));
    }
    let name = error::c_str_prefix(&argv[0], usize::MAX);
    if searching && !(o.from_member || o.from_lonlat) {
        return Err(error::geo_from(&name));
    }
    if searching && !(o.by_radius || o.by_box) {
        return Err(error::geo_by(&name));
    }
    if o.any && o.count == 0 {
        return Err(error::GEO_ANY_NEEDS_COUNT);
    }
    let Some(z) = z else {
        return Ok(match o.store {
            Some(dst) => {
                let now = ctx.now;
                if ctx.db().delete(dst, now).is_some() {
                    ctx.signal_modified(dst);
                    ctx.notify('g', "del", dst);
                    ctx.dirty(1);
                }
                Reply::Integer(0)
            }
            None => Reply::Array(vec![]),
        });
    };
    if o.count != 0 && o.sort == Sort::None && !o.any {
        o.sort = Sort::Asc;
    }
    let search = Search {
        lon: centre.0,
        lat: centre.1,
        shape,
        unit: per_unit,
    };
    let limit = if o.any { o.count as usize } else { 0 };
    let mut found = collect(z, &search, limit);
    if found.is_empty() && o.store.is_none() {
        return Ok(Reply::Array(vec![]));
    }
    let total = found.len();
    let returned = if o.count == 0 || (total as i64) < o.count {
        total
    } else {
        o.count as usize
    };
    let by_dist = |a: &Found, b: &Found| a.dist.partial_cmp(&b.dist).unwrap_or(Ordering::Equal);
    match o.sort {
        Sort::None => {}
        Sort::Asc | Sort::Desc => {
            let desc = o.sort == Sort::Desc;
            let cmp = |a: &Found, b: &Found| {
                let c = by_dist(a, b);
                if desc {
                    c.reverse()
                } else {
                    c
                }
            };
            if returned == total {
                // glibc's qsort is a merge sort: stable, as Rust's sort is.
                found.sort_by(cmp);
            } else {
                geo::partial_sort(&mut found, &cmp, 0, returned - 1);
            }
        }
    }
    found.truncate(returned);
    for f in &mut found {
        f.dist /= per_unit;
    }
    match o.store {
        None => Ok(Reply::Array(
            found
                .into_iter()
                .map(|f| result_reply(ctx, &o, f))
                .collect(),
        )),
        Some(dst) => Ok(store_results(ctx, dst, found, &o, variant)),
    }
}

/// One search result: the member alone, or [member, dist?, hash?, [lon, lat]?].
fn result_reply(ctx: &Ctx, o: &Options, f: Found) -> Reply {
    if !(o.with_dist || o.with_hash || o.with_coord) {
        return Reply::Bulk(f.member);
    }
    let mut item = vec![Reply::Bulk(f.member)];
    if o.with_dist {
        item.push(Reply::Bulk(fmt_distance(f.dist)));
    }
    if o.with_hash {
        item.push(Reply::Integer(f.score as i64));
    }
    if o.with_coord {
        item.push(Reply::Array(vec![
            coord_reply(ctx, f.lon),
            coord_reply(ctx, f.lat),
        ]));
    }
    Reply::Array(item)
}

/// Stores search results as a sorted set (scores: geohashes, or distances with STOREDIST);
/// no results delete the destination. Replies the number stored.
fn store_results(ctx: &mut Ctx, dst: &[u8], found: Vec<Found>, o: &Options, v: Variant) -> Reply {
    let n = found.len();
    let now = ctx.now;
    if n == 0 {
        if ctx.db().delete(dst, now).is_some() {
            ctx.signal_modified(dst);
            ctx.notify('g', "del", dst);
            ctx.dirty(1);
        }
        return Reply::Integer(0);
    }
    let unlimited = Limits {
        entries: usize::MAX,
        value: usize::MAX,
    };
    let mut z = ZSet::new();
    z.convert_to_skiplist();
    for f in found {
        let score = if o.store_dist { f.dist } else { f.score };
        z.insert(&f.member, score, unlimited);
    }
    z.settle_encoding(Limits {
        entries: ctx.eng.config.zset_max_listpack_entries,
        value: ctx.eng.config.zset_max_listpack_value,
    });
    ctx.db().expire_if_needed(dst, now);
    ctx.db().set(dst, Value::ZSet(Box::new(z)), now);
    ctx.signal_modified(dst);
    let event = if matches!(v, Variant::Search { .. }) {
        "geosearchstore"
    } else {
        "georadiusstore"
    };
    ctx.notify('z', event, dst);
    ctx.dirty(n as u64);
    Reply::int(n)
}

/// The points inside the search, cell by cell in Redis's order; with `limit` (ANY), stops as
/// soon as that many were found.
fn collect(z: &ZSet, s: &Search, limit: usize) -> Vec<Found> {
    let cells = s.cells();
    let mut out = Vec::new();
    let mut last = 0usize;
    for i in 0..cells.len() {
        if geo::skip_cell(&cells, i, last) {
            continue;
        }
        if limit != 0 && out.len() >= limit {
            break;
        }
        let (min, max) = geo::cell_scores(cells[i]);
        let range = ScoreRange {
            min,
            max,
            minex: false,
            maxex: true,
        };
        if let Some(rank) = z.score_first(&range) {
            for (member, score) in z.iter_from(rank) {
                if !range.lte_max(score) {
                    break;
                }
                let (lon, lat) = geo::score_to_lonlat(score);
                if let Some(dist) = s.contains(lon, lat) {
                    out.push(Found {
                        member: member.to_vec(),
                        score,
                        dist,
                        lon,
                        lat,
                    });
                }
                if limit != 0 && out.len() >= limit {
                    break;
                }
            }
        }
        last = i;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distances_and_coordinates_print_as_redis_prints_them() {
        assert_eq!(fmt_distance(166274.15156960033), b"166274.1516");
        assert_eq!(fmt_distance(0.0), b"0.0000");
        assert_eq!(fmt_distance(0.00005), b"0.0000");
        assert_eq!(fmt_distance(1.23456), b"1.2346");
        assert_eq!(fmt_coord(13.361389338970184), b"13.36138933897018433");
        assert_eq!(fmt_coord(-0.0), b"0");
        assert_eq!(fmt_coord(180.0), b"180");
    }
}
