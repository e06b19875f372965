//! The `PATH` search, done in the parent so the vfork child only loops over
//! ready-made paths.

use std::ffi::CString;

/// Used when the child's environment has no `PATH`, as glibc's `execvp` does.
const DEFAULT_PATH: &str = "/usr/local/bin:/usr/bin:/bin";

/// The paths to try, in order, for `file` run with the environment `env`
/// (`KEY=value` entries). Like Node, the `PATH` of the child's environment wins.
/// A name with a slash is used as it is (relative to the child's `cwd`).
pub fn candidates(file: &str, env: &[CString]) -> Vec<CString> {
    let file_c = || CString::new(file).expect("NUL bytes are rejected before this point");
    if file.contains('/') {
        return vec![file_c()];
    }
    let path = env
        .iter()
        .find_map(|entry| entry.to_bytes().strip_prefix(b"PATH="))
        .map(|p| String::from_utf8_lossy(p).into_owned())
        .unwrap_or_else(|| DEFAULT_PATH.to_owned());
    path.split(':')
        .map(|dir| {
            let dir = if dir.is_empty() { "." } else { dir };
            let dir = dir.trim_end_matches('/');
            CString::new(format!("{dir}/{file}")).expect("checked for NUL above")
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(entries: &[&str]) -> Vec<CString> {
        entries.iter().map(|e| CString::new(*e).unwrap()).collect()
    }

    #[test]
    fn uses_the_childs_path_in_order() {
        let c = candidates("ls", &env(&["HOME=/root", "PATH=/opt/bin:/usr/bin/"]));
        assert_eq!(c, env(&["/opt/bin/ls", "/usr/bin/ls"]));
    }

    #[test]
    fn empty_path_entry_means_the_current_directory() {
        let c = candidates("tool", &env(&["PATH=:/bin"]));
        assert_eq!(c, env(&["./tool", "/bin/tool"]));
    }

    #[test]
    fn a_name_with_a_slash_is_not_searched() {
        assert_eq!(
            candidates("./run.sh", &env(&["PATH=/bin"])),
            env(&["./run.sh"])
        );
    }

    #[test]
    fn falls_back_to_a_default_path() {
        assert_eq!(candidates("sh", &[]).len(), 3);
    }
}
