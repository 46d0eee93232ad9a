//! LOLWUT: computer art and the server's version, as Redis 7.0 draws it.
//!
//! `LOLWUT [VERSION v] [args...]`: version 5 draws Georg Nees's *Schotter* (squares that
//! tumble more the lower they are) in braille characters, version 6 a city skyline in the
//! terminal's four grays, any other version (and the default, 7.0) only the version line.
//! The random parts draw from the engine's generator, so the art differs from Redis's but has
//! its shape: the first two rows of Schotter are never moved, and are byte-identical.

use super::spec::*;
use crate::engine::Ctx;
use crate::error::{self, CmdResult};
use crate::protocol::Reply;
use crate::rng::Rng;

/// This group's commands.
pub const COMMANDS: &[CommandSpec] = &[CommandSpec::new("lolwut", -1, &[READONLY, FAST], lolwut)
    .doc(
        Group::Server,
        "5.0.0",
        &[Arg::integer("version").with_token("VERSION").optional()],
        "Display some computer art and the Redis version",
    )];

/// The version the art names.
const VERSION: &str = "7.0.15";

/// Redis's RAND_MAX.
const RAND_MAX: i64 = 2_147_483_647;

/// `LOLWUT [VERSION version] [version-specific args]` → verbatim text: the art of the
/// version (5 and 6 have art) and the version line.
fn lolwut(ctx: &mut Ctx, argv: &[Vec<u8>]) -> CmdResult {
    let mut args = &argv[1..];
    let mut version = None;
    if args.len() >= 2 && args[0].eq_ignore_ascii_case(b"version") {
        let v = parse_long(&args[1])?;
        // Redis prints the number as an unsigned int and looks at its first characters.
        version = Some(v as u32);
        args = &args[2..];
    }
    let text = match version {
        Some(5) => schotter(&mut ctx.eng.rng, args)?,
        Some(6) => skyline(&mut ctx.eng.rng, args)?,
        _ => format!("Redis ver. {VERSION}\n").into_bytes(),
    };
    Ok(Reply::Verbatim("txt", text))
}

fn parse_long(arg: &[u8]) -> Result<i64, error::CmdError> {
    crate::util::parse_i64(arg).ok_or(error::NOT_INTEGER)
}

/// The i-th numeric argument, or `default` when absent; clamped to `lo..=hi`.
fn arg_or(args: &[Vec<u8>], i: usize, default: i64, hi: i64) -> Result<i64, error::CmdError> {
    let v = match args.get(i) {
        Some(a) => parse_long(a)?,
        None => default,
    };
    Ok(v.clamp(1, hi))
}

/// C's rand(): 0..=RAND_MAX.
fn rand(rng: &mut Rng) -> i64 {
    rng.below(RAND_MAX as u64 + 1) as i64
}

/// A canvas of pixel colors; writes outside it are ignored and reads outside it are 0.
/// Version 5's canvas can be very large and is mostly blank, so its pixels are kept sparse.
trait Canvas {
    fn set(&mut self, x: i64, y: i64, color: u8);
}

/// The pixels version 5 draws (all of color 1), within `width` x `height`.
struct Sparse {
    width: i64,
    height: i64,
    on: hashbrown::HashSet<(i64, i64)>,
}

impl Canvas for Sparse {
    fn set(&mut self, x: i64, y: i64, color: u8) {
        if x < 0 || x >= self.width || y < 0 || y >= self.height {
            return;
        }
        if color != 0 {
            self.on.insert((x, y));
        } else {
            self.on.remove(&(x, y));
        }
    }
}

impl Sparse {
    fn get(&self, x: i64, y: i64) -> bool {
        self.on.contains(&(x, y))
    }
}

/// Bresenham's line from (x1, y1) to (x2, y2).
fn line(c: &mut impl Canvas, mut x1: i64, mut y1: i64, x2: i64, y2: i64, color: u8) {
    let dx = (x2 - x1).abs();
    let dy = (y2 - y1).abs();
    let sx = if x1 < x2 { 1 } else { -1 };
    let sy = if y1 < y2 { 1 } else { -1 };
    let mut err = dx - dy;
    loop {
        c.set(x1, y1, color);
        if x1 == x2 && y1 == y2 {
            break;
        }
        let e2 = err * 2;
        if e2 > -dy {
            err -= dy;
            x1 += sx;
        }
        if e2 < dx {
            err += dx;
            y1 += sy;
        }
    }
}

/// A square of side `size` centred on (x, y), turned by `angle` radians: its corners lie on
/// the circle through them, starting at 45 degrees plus the angle. The arithmetic keeps
/// Redis's mix of single and double precision, so the same arguments give the same pixels.
// Redis divides by 1.4142135623, a little off the square root of two: the same figure keeps
// the same rounding.
#[allow(clippy::approx_constant)]
fn square(c: &mut impl Canvas, x: i64, y: i64, size: f32, angle: f32, color: u8) {
    let size = (f64::from(size) / 1.4142135623) as f32;
    let size = f64::from(size).round() as f32;
    let mut k = (std::f64::consts::PI / 4.0 + f64::from(angle)) as f32;
    let mut px = [0i64; 4];
    let mut py = [0i64; 4];
    for j in 0..4 {
        let kd = f64::from(k);
        px[j] = (kd.sin() * f64::from(size) + x as f64).round() as i64;
        py[j] = (kd.cos() * f64::from(size) + y as f64).round() as i64;
        k = (f64::from(k) + std::f64::consts::PI / 2.0) as f32;
    }
    for j in 0..4 {
        line(c, px[j], py[j], px[(j + 1) % 4], py[(j + 1) % 4], color);
    }
}

/// Version 5: `[columns (66)] [squares per row (8)] [squares per column (12)]`.
fn schotter(rng: &mut Rng, args: &[Vec<u8>]) -> Result<Vec<u8>, error::CmdError> {
    let cols = arg_or(args, 0, 66, 1000)?;
    let per_row = arg_or(args, 1, 8, 200)?;
    let per_col = arg_or(args, 2, 12, 200)?;
    let width = cols * 2;
    let padding: i64 = if width > 4 { 2 } else { 0 };
    let side: f32 = (width - padding * 2) as f32 / per_row as f32;
    let height = (side * per_col as f32 + (padding * 2) as f32) as i64;
    let mut canvas = Sparse {
        width,
        height,
        on: hashbrown::HashSet::new(),
    };
    let unit = |rng: &mut Rng, y: i64| -> f32 {
        rand(rng) as f32 / RAND_MAX as f32 / per_col as f32 * y as f32
    };
    for y in 0..per_col {
        for x in 0..per_row {
            let mut sx = (x as f32 * side + side / 2.0 + padding as f32) as i64;
            let mut sy = (y as f32 * side + side / 2.0 + padding as f32) as i64;
            let mut angle = 0.0f32;
            if y > 1 {
                let mut r1 = unit(rng, y);
                let mut r2 = unit(rng, y);
                let mut r3 = unit(rng, y);
                if rand(rng) % 2 == 1 {
                    r1 = -r1;
                }
                if rand(rng) % 2 == 1 {
                    r2 = -r2;
                }
                if rand(rng) % 2 == 1 {
                    r3 = -r3;
                }
                angle = r1;
                sx = (sx as f32 + r2 * side / 3.0) as i64;
                sy = (sy as f32 + r3 * side / 3.0) as i64;
            }
            square(&mut canvas, sx, sy, side, angle, 1);
        }
    }
    let mut out = Vec::new();
    let mut y = 0;
    while y < height {
        let mut x = 0;
        while x < width {
            // Braille dots, lowest bit first: (0,0) (0,1) (0,2) (1,0) (1,1) (1,2) (0,3) (1,3).
            let dots = [
                (0, 0),
                (0, 1),
                (0, 2),
                (1, 0),
                (1, 1),
                (1, 2),
                (0, 3),
                (1, 3),
            ];
            let mut bits = 0u32;
            for (i, (dx, dy)) in dots.iter().enumerate() {
                if canvas.get(x + dx, y + dy) {
                    bits |= 1 << i;
                }
            }
            let ch = char::from_u32(0x2800 + bits).unwrap_or(' ');
            let mut buf = [0u8; 4];
            out.extend_from_slice(ch.encode_utf8(&mut buf).as_bytes());
            x += 2;
        }
        // Redis compares the row's first pixel line with the last one: a newline follows
        // every row unless the canvas height is a multiple of four plus one and this is the
        // last row.
        if y != height - 1 {
            out.push(b'\n');
        }
        y += 4;
    }
    out.extend_from_slice(b"\nGeorg Nees - schotter, plotter on paper, 1968. Redis ver. ");
    out.extend_from_slice(VERSION.as_bytes());
    out.push(b'\n');
    Ok(out)
}

/// Version 6's canvas: one color (0 black .. 3 white) per pixel.
struct Dense {
    width: i64,
    height: i64,
    pixels: Vec<u8>,
}

impl Canvas for Dense {
    fn set(&mut self, x: i64, y: i64, color: u8) {
        if x < 0 || x >= self.width || y < 0 || y >= self.height {
            return;
        }
        self.pixels[(x + y * self.width) as usize] = color;
    }
}

impl Dense {
    fn get(&self, x: i64, y: i64) -> u8 {
        if x < 0 || x >= self.width || y < 0 || y >= self.height {
            return 0;
        }
        self.pixels[(x + y * self.width) as usize]
    }
}

/// One building of the skyline.
struct Building {
    xoff: i64,
    width: i64,
    height: i64,
    windows: bool,
    color: u8,
}

/// Draws a building from the bottom of the canvas up: its roof two pixels narrower on each
/// side, and for foreground buildings, windows two pixels wide in one of the grays.
fn building(c: &mut Dense, rng: &mut Rng, b: &Building) {
    let starty = c.height - 1;
    let endy = starty - b.height + 1;
    let mut y = starty;
    while y >= endy {
        for x in b.xoff..b.xoff + b.width {
            if y == endy && (x <= b.xoff + 1 || x >= b.xoff + b.width - 2) {
                continue;
            }
            let mut color = b.color;
            if b.windows
                && x > b.xoff + 1
                && x < b.xoff + b.width - 2
                && y > endy + 1
                && y < starty - 1
            {
                let relx = x - (b.xoff + 1);
                let rely = y - (endy + 1);
                if (relx / 2) % 2 != 0 && rely % 2 != 0 {
                    loop {
                        color = 1 + (rand(rng) % 2) as u8;
                        if color != b.color {
                            break;
                        }
                    }
                    if relx % 2 != 0 {
                        color = c.get(x - 1, y);
                    }
                }
            }
            c.set(x, y, color);
        }
        y -= 1;
    }
}

/// Version 6: `[columns (80)] [rows (20)]`.
fn skyline(rng: &mut Rng, args: &[Vec<u8>]) -> Result<Vec<u8>, error::CmdError> {
    let cols = arg_or(args, 0, 80, 1000)?;
    let rows = arg_or(args, 1, 20, 1000)?;
    let mut c = Dense {
        width: cols,
        height: rows,
        pixels: vec![3; (cols * rows) as usize],
    };
    let h = c.height;
    // Background buildings without windows, the lighter ones behind.
    for color in [2u8, 1] {
        let mut offset: i64 = -10;
        while offset < c.width {
            offset += rand(rng) % 8;
            let width = 10 + rand(rng) % 9;
            let height = if color == 2 {
                h / 2 + (rand(rng) % h) / 2
            } else {
                h / 2 + (rand(rng) % h) / 3
            };
            let b = Building {
                xoff: offset,
                width,
                height,
                windows: false,
                color,
            };
            building(&mut c, rng, &b);
            offset += if color == 2 { width / 2 } else { width + 1 };
        }
    }
    // The black foreground buildings, with windows.
    let mut offset: i64 = -10;
    while offset < c.width {
        offset += rand(rng) % 8;
        let mut width = 5 + rand(rng) % 14;
        if width % 4 != 0 {
            width += width % 3;
        }
        let height = h / 3 + (rand(rng) % h) / 2;
        let b = Building {
            xoff: offset,
            width,
            height,
            windows: true,
            color: 0,
        };
        building(&mut c, rng, &b);
        offset += width + 5;
    }
    let mut out = Vec::new();
    for y in 0..c.height {
        for x in 0..c.width {
            // Foreground and background of the same gray, for terminals that differ.
            let code: &[u8] = match c.get(x, y) {
                1 => b"0;90;100m",
                2 => b"0;37;47m",
                3 => b"0;97;107m",
                _ => b"0;30;40m",
            };
            out.extend_from_slice(b"\x1b[");
            out.extend_from_slice(code);
            out.extend_from_slice(b" \x1b[0m");
        }
        if y != c.height - 1 {
            out.push(b'\n');
        }
    }
    out.extend_from_slice(
        b"\nDedicated to the 8 bit game developers of past and present.\n\
          Original 8 bit image from Plaguemon by hikikomori. Redis ver. ",
    );
    out.extend_from_slice(VERSION.as_bytes());
    out.push(b'\n');
    Ok(out)
}
