//! Reading the configuration as redis-server reads it: the config file, then standard input
//! (`-`), then the command line's `--name value` options as more lines, all checked line by
//! line with redis-server's errors; `include` reads another file at that point (a pattern with
//! `*`, `?` or `[` reads every matching file, or none); relative paths are found from the
//! directory the lines before chose with `dir`, as redis-server's `dir` changes directory at
//! once.

use std::path::{Path, PathBuf};

use redis_playground::config::{self, Config};
use redis_playground::protocol::inline::split_args;
use redis_playground::protocol::render::quote;

/// The version redis-server names in its errors.
pub const REDIS_VERSION: &str = "7.0.15";

/// How deep `include` may nest (a file including itself would otherwise never end).
const MAX_INCLUDE_DEPTH: usize = 64;

/// Why reading the configuration stopped the start.
#[derive(Debug, PartialEq)]
pub enum ConfigError {
    /// redis-server's block on standard error: the line (number and text) when one is to
    /// blame, then the reason.
    Fatal {
        at: Option<(usize, String)>,
        reason: String,
    },
    /// A file that cannot be opened: redis-server logs it as a warning, then exits.
    Open(String),
}

impl ConfigError {
    fn fatal(line: usize, text: &str, reason: impl Into<String>) -> Self {
        ConfigError::Fatal {
            at: Some((line, text.to_string())),
            reason: reason.into(),
        }
    }

    /// The text redis-server writes to standard error for a fatal error.
    pub fn block(&self) -> Option<String> {
        let ConfigError::Fatal { at, reason } = self else {
            return None;
        };
        let mut out = format!("\n*** FATAL CONFIG FILE ERROR (Redis {REDIS_VERSION}) ***\n");
        if let Some((n, text)) = at {
            out.push_str(&format!(
                "Reading the configuration file, at line {n}\n>>> '{text}'\n"
            ));
        }
        out.push_str(reason);
        out.push('\n');
        Some(out)
    }
}

/// One accepted line: the parameter's canonical name (or the directive's) and its words.
#[derive(Clone, Debug, PartialEq)]
pub struct Directive {
    pub name: String,
    pub args: Vec<Vec<u8>>,
}

impl Directive {
    /// The words as text (paths, addresses, user rules).
    pub fn strings(&self) -> Vec<String> {
        self.args
            .iter()
            .map(|a| String::from_utf8_lossy(a).into_owned())
            .collect()
    }
}

/// What the command line says before any line is read.
#[derive(Debug, Default, PartialEq)]
pub struct CommandLine {
    /// The config file as given (made absolute by the caller).
    pub file: Option<String>,
    /// `-`: lines from standard input after the file's.
    pub stdin: bool,
    /// The `--name value` options as config lines, one per option.
    pub options: String,
}

/// Turns the arguments after the program name into what redis-server reads: the first
/// argument is a config file unless it starts with `-`; each `--name` starts a line, and the
/// arguments after it are its values, quoted so the line reads them back whole. A bare `--save`
/// (last, or before another option) means `save ""`.
pub fn command_line(args: &[String]) -> CommandLine {
    let mut out = CommandLine::default();
    let mut j = 0;
    if let Some(first) = args.first() {
        if !first.starts_with('-') {
            out.file = Some(first.clone());
            j = 1;
        }
    }
    // Whether the last option already has a value (or needs none): an argument after a bare
    // `--name` is its value even when it starts with `--`.
    let mut has_value = true;
    let last = args.len().saturating_sub(1);
    while j < args.len() {
        let arg = &args[j];
        if arg == "-" && (j == 0 || j == last) {
            out.stdin = true;
        } else if has_value && arg.starts_with("--") {
            if !out.options.is_empty() {
                out.options.push('\n');
            }
            out.options.push_str(&arg[2..]);
            out.options.push(' ');
            let words = split_args(arg.as_bytes()).map_or(0, |w| w.len());
            if words == 1 {
                has_value = false;
                let next_is_option = j < last && args[j + 1].starts_with("--");
                if arg.eq_ignore_ascii_case("--save") && (next_is_option || j == last) {
                    out.options.push_str("\"\"");
                    has_value = next_is_option;
                } else if arg.eq_ignore_ascii_case("--sentinel") && next_is_option {
                    has_value = true;
                }
            } else {
                // `"--port 6380"` as one argument carries its value.
                has_value = true;
            }
        } else {
            out.options.push_str(&quote(arg.as_bytes()));
            out.options.push(' ');
            has_value = true;
        }
        j += 1;
    }
    out
}

/// Reads every line, checking each parameter's value on `check` (which ends up holding what
/// CONFIG GET will show), and returns the accepted directives in order with the directory the
/// server will run in.
pub struct Reader<'a> {
    /// Reads a file (or standard input for `-`); the error is the system's reason.
    pub read: &'a dyn Fn(&Path) -> Result<String, String>,
    /// The directory relative paths start from: the process's, then each `dir`'s.
    pub cwd: PathBuf,
    pub check: Config,
    pub out: Vec<Directive>,
    /// The `rename-command` lines so far, checked as redis-server checks them.
    pub renames: redis_playground::engine::Renames,
}

impl Reader<'_> {
    /// Reads the command line's file, standard input and options, in that order.
    pub fn read_all(&mut self, cl: &CommandLine) -> Result<(), ConfigError> {
        let mut text = String::new();
        if let Some(file) = &cl.file {
            let path = self.cwd.join(file);
            text.push_str(&(self.read)(&path).map_err(|e| {
                ConfigError::Open(format!(
                    "Fatal error, can't open config file '{}': {e}",
                    path.display()
                ))
            })?);
        }
        if cl.stdin {
            text.push_str(&(self.read)(Path::new("-")).map_err(ConfigError::Open)?);
        }
        // redis-server always adds a line break before the options, even when there are none.
        text.push('\n');
        text.push_str(&cl.options);
        self.read_text(&text, 0)?;
        self.after_reading()
    }

    /// The checks redis-server makes once every line is read.
    fn after_reading(&mut self) -> Result<(), ConfigError> {
        let logfile = self.check.get_named("logfile").to_string();
        if !logfile.is_empty() {
            let opened = std::fs::OpenOptions::new()
                .append(true)
                .create(true)
                .open(self.cwd.join(&logfile));
            if let Err(e) = opened {
                return Err(ConfigError::Fatal {
                    at: None,
                    reason: format!("Can't open the log file: {}", os_reason(&e)),
                });
            }
        }
        Ok(())
    }

    fn read_text(&mut self, text: &str, depth: usize) -> Result<(), ConfigError> {
        for (i, raw) in text.split('\n').enumerate() {
            let line = raw.trim_matches([' ', '\t', '\r', '\n']);
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            self.read_line(i + 1, line, depth)?;
        }
        Ok(())
    }

    fn read_line(&mut self, n: usize, line: &str, depth: usize) -> Result<(), ConfigError> {
        let fatal = |reason: &str| ConfigError::fatal(n, line, reason);
        let Ok(mut words) = split_args(line.as_bytes()) else {
            return Err(fatal("Unbalanced quotes in configuration line"));
        };
        if words.is_empty() {
            return Ok(());
        }
        let name = String::from_utf8_lossy(&words.remove(0)).to_ascii_lowercase();
        let args = words;
        if let Some(param) = config::lookup(name.as_bytes()) {
            self.check.load(param, &args).map_err(|e| fatal(&e))?;
            if param.name == "dir" {
                let dir = self.cwd.join(String::from_utf8_lossy(&args[0]).as_ref());
                match std::fs::metadata(&dir) {
                    Ok(m) if m.is_dir() => self.cwd = dir,
                    Ok(_) => return Err(fatal("Not a directory")),
                    Err(e) => return Err(fatal(&os_reason(&e))),
                }
            }
            self.out.push(Directive {
                name: param.name.to_string(),
                args,
            });
            return Ok(());
        }
        // Parameters Redis 7.0 no longer has, still accepted with one value.
        if matches!(
            name.as_str(),
            "list-max-ziplist-entries" | "list-max-ziplist-value" | "lua-replicate-commands"
        ) && args.len() == 1
        {
            return Ok(());
        }
        match (name.as_str(), args.len()) {
            ("include", 1) => {
                if depth >= MAX_INCLUDE_DEPTH {
                    return Err(fatal("Too many nested include directives"));
                }
                let pattern = String::from_utf8_lossy(&args[0]).into_owned();
                for path in self.include_paths(&pattern)? {
                    let text = (self.read)(&path).map_err(|e| {
                        ConfigError::Open(format!(
                            "Fatal error, can't open config file '{}': {e}",
                            shown(&pattern, &path)
                        ))
                    })?;
                    self.read_text(&text, depth + 1)?;
                }
            }
            ("rename-command", 2) => {
                self.renames.add(&args[0], &args[1]).map_err(fatal)?;
                self.out.push(Directive { name, args });
            }
            ("user", n) if n >= 1 => self.out.push(Directive { name, args }),
            ("loadmodule", n) if n >= 1 => self.out.push(Directive { name, args }),
            _ if name.contains('.') => {
                if args.is_empty() {
                    return Err(fatal("Module config specified without value"));
                }
                self.out.push(Directive { name, args });
            }
            ("sentinel", 0) => {}
            ("sentinel", _) => return Err(fatal("sentinel directive while not in sentinel mode")),
            _ => return Err(fatal("Bad directive or wrong number of arguments")),
        }
        Ok(())
    }

    /// The files an `include` names: the file itself, or every file a pattern in its last
    /// part matches, in name order (none is fine).
    fn include_paths(&self, pattern: &str) -> Result<Vec<PathBuf>, ConfigError> {
        let path = self.cwd.join(pattern);
        if !pattern.contains(['*', '?', '[']) {
            return Ok(vec![path]);
        }
        let (Some(dir), Some(name)) = (path.parent(), path.file_name()) else {
            return Ok(Vec::new());
        };
        let name = name.to_string_lossy().into_owned();
        let Ok(entries) = std::fs::read_dir(dir) else {
            return Ok(Vec::new());
        };
        let mut found: Vec<PathBuf> = entries
            .filter_map(Result::ok)
            .filter(|e| {
                let file = e.file_name().to_string_lossy().into_owned();
                // As glob(3): a leading dot is matched only by a leading dot.
                (!file.starts_with('.') || name.starts_with('.'))
                    && redis_playground::util::glob::glob_match(
                        name.as_bytes(),
                        file.as_bytes(),
                        false,
                    )
            })
            .map(|e| e.path())
            .collect();
        found.sort();
        Ok(found)
    }
}

/// A path in an error as the line named it when it was relative.
fn shown(given: &str, resolved: &Path) -> String {
    if Path::new(given).is_absolute() || given.contains(['*', '?', '[']) {
        resolved.display().to_string()
    } else {
        given.to_string()
    }
}

/// The system's reason alone, as C's strerror gives it.
pub fn os_reason(e: &std::io::Error) -> String {
    let text = e.to_string();
    text.split(" (os error").next().unwrap_or(&text).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(s: &[&str]) -> Vec<String> {
        s.iter().map(|a| a.to_string()).collect()
    }

    #[test]
    fn command_lines_become_config_lines() {
        let cl = command_line(&args(&[
            "a.conf", "--port", "7000", "--save", "--bind", "x y",
        ]));
        assert_eq!(cl.file.as_deref(), Some("a.conf"));
        assert_eq!(cl.options, "port \"7000\" \nsave \"\"\nbind \"x y\" ");
        let cl = command_line(&args(&["--save"]));
        assert_eq!(cl.options, "save \"\"");
        let cl = command_line(&args(&["--port", "--foo"]));
        assert_eq!(cl.options, "port \"--foo\" ");
        let cl = command_line(&args(&["--port 6380", "--x", "a\n\u{1}"]));
        assert_eq!(cl.options, "port 6380 \nx \"a\\n\\x01\" ");
        let cl = command_line(&args(&["-", "--port", "1"]));
        assert!(cl.stdin && cl.file.is_none());
        let cl = command_line(&args(&["b.conf", "bar"]));
        assert_eq!(cl.options, "\"bar\" ");
    }

    fn read(files: &[(&str, &str)], cl: &CommandLine) -> Result<Vec<Directive>, ConfigError> {
        let files: Vec<(String, String)> = files
            .iter()
            .map(|(n, t)| (n.to_string(), t.to_string()))
            .collect();
        let read = move |p: &Path| -> Result<String, String> {
            let name = p.file_name().unwrap_or_default().to_string_lossy();
            files
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, t)| t.clone())
                .ok_or_else(|| "No such file or directory".to_string())
        };
        let mut r = Reader {
            read: &read,
            cwd: PathBuf::from("/"),
            check: Config::default(),
            out: Vec::new(),
            renames: Default::default(),
        };
        r.read_all(cl)?;
        Ok(r.out)
    }

    #[test]
    fn errors_name_the_line_as_redis_does() {
        let cl = command_line(&args(&["a.conf", "--port", "abc"]));
        let err = read(&[("a.conf", "port 7210\n")], &cl).unwrap_err();
        assert_eq!(
            err.block().unwrap(),
            "\n*** FATAL CONFIG FILE ERROR (Redis 7.0.15) ***\nReading the configuration \
             file, at line 3\n>>> 'port \"abc\"'\nargument couldn't be parsed into an integer\n"
        );
        let err = read(
            &[("a.conf", "port 1\n  foo bar  \n")],
            &command_line(&args(&["a.conf"])),
        );
        assert_eq!(
            err.unwrap_err(),
            ConfigError::fatal(2, "foo bar", "Bad directive or wrong number of arguments")
        );
        let err = read(
            &[("a.conf", "port \"1\n")],
            &command_line(&args(&["a.conf"])),
        );
        assert_eq!(
            err.unwrap_err(),
            ConfigError::fatal(1, "port \"1", "Unbalanced quotes in configuration line")
        );
        let err = read(&[("a.conf", "save 1\n")], &command_line(&args(&["a.conf"])));
        assert_eq!(
            err.unwrap_err(),
            ConfigError::fatal(1, "save 1", "Invalid save parameters")
        );
        let err = read(&[], &command_line(&args(&["--maxmemory", "1", "2"])));
        assert_eq!(
            err.unwrap_err(),
            ConfigError::fatal(2, "maxmemory \"1\" \"2\"", "wrong number of arguments")
        );
        let err = read(
            &[("a.conf", "include b.conf\n")],
            &command_line(&args(&["a.conf"])),
        );
        assert_eq!(
            err.unwrap_err(),
            ConfigError::Open(
                "Fatal error, can't open config file 'b.conf': No such file or directory".into()
            )
        );
    }

    #[test]
    fn includes_multi_word_values_and_old_names() {
        let files = [
            (
                "a.conf",
                "include b.conf\nsave 900 1\nsave \"300 10\"\nslaveof no one\n",
            ),
            (
                "b.conf",
                "# nested\nmaxmemory 1mb\nlist-max-ziplist-entries 5\n",
            ),
        ];
        let out = read(&files, &command_line(&args(&["a.conf"]))).unwrap();
        let names: Vec<&str> = out.iter().map(|d| d.name.as_str()).collect();
        assert_eq!(names, ["maxmemory", "save", "save", "replicaof"]);
        let err = read(
            &[("b.conf", "port 0\nport x\n")],
            &command_line(&args(&["a.conf"])),
        );
        assert!(matches!(err, Err(ConfigError::Open(_))));
        let err = read(
            &files[1..],
            &command_line(&args(&["--include", "b.conf", "--x", "1"])),
        );
        assert_eq!(
            err.unwrap_err(),
            ConfigError::fatal(3, "x \"1\"", "Bad directive or wrong number of arguments")
        );
    }
}
