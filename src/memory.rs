//! The server's memory allocator: mimalloc, told to give freed memory back to the
//! system at once.
//!
//! mimalloc keeps memory a thread freed for a while, for that thread to reuse: for a
//! request's small buffers that is what makes it fast. But a password hash takes a
//! 19 MiB block (argon2's working memory) and a photo upload far more, on whichever
//! blocking thread ran them; kept, a few log-ins left the server tens of MB larger. With
//! no purge delay, a freed block's pages go back to the system when it is freed.

/// mimalloc's `mi_option_purge_delay` (`mi_option_t` in mimalloc.h, the same number in
/// its versions 2 and 3): milliseconds before freed memory is returned to the system
/// (1000 by default in version 3).
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// The global allocator (`#[global_allocator]` in main.rs).
pub type Allocator = mimalloc::MiMalloc;

/// Makes mimalloc return freed memory to the system without delay. Call it first thing
/// in `main`.
pub fn return_freed_memory_at_once() {
    // SAFETY: mi_option_set only stores the option's value; mimalloc reads it on its next
    // purge. It is safe to call at any time, from any thread.
    #[allow(unsafe_code)]
    unsafe {
        libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, 0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_purge_delay_option_is_the_one_we_set() {
        // The default of `mi_option_purge_delay` in the mimalloc built here (v3) is
        // 1000 ms: a different number means the option's index has moved.
        #[allow(unsafe_code)]
        let default = unsafe { libmimalloc_sys::mi_option_get(MI_OPTION_PURGE_DELAY) };
        assert_eq!(default, 1000);
        return_freed_memory_at_once();
        #[allow(unsafe_code)]
        let set = unsafe { libmimalloc_sys::mi_option_get(MI_OPTION_PURGE_DELAY) };
        assert_eq!(set, 0);
    }
}
