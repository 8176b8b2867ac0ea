//! Finds out whether `redis-server` is installed, so that the Redis tests are reported as
//! ignored (never as passed) where it is not: `cfg(has_redis)`.

fn main() {
    println!("cargo::rustc-check-cfg=cfg(has_redis)");
    println!("cargo::rerun-if-env-changed=PATH");
    let paths = std::env::var_os("PATH").unwrap_or_default();
    let found = std::env::split_paths(&paths).map(|dir| dir.join("redis-server")).find(|path| path.is_file());
    match found {
        Some(path) => {
            println!("cargo::rustc-cfg=has_redis");
            println!("cargo::rerun-if-changed={}", path.display());
        }
        // Look again on every build until it is installed: a path that never exists is always
        // stale. (Watching where it would be installed is not enough: a package keeps its
        // files' old modification times.)
        None => println!("cargo::rerun-if-changed=/nonexistent/moveo-dialog-looks-for-redis-server"),
    }
}
