//! The server's memory allocator: mimalloc for the many small allocations of serving
//! requests, and fresh pages from the kernel for the few very large ones.
//!
//! mimalloc keeps memory a thread freed for that thread to reuse. For a request's small
//! buffers that is what makes it fast, but a password hash takes a 19 MiB block (argon2's
//! working memory) on whichever blocking thread ran it, and mimalloc kept those blocks:
//! after one sign-up the server stayed 21 MB larger, and after 10 s of logins from
//! 32 clients it stayed at 120 MB (from 29 MB; peak 140 MB), measured with `VmRSS` and
//! `VmHWM` at 100,000 cars. A large block is now its own mapping, unmapped when freed.
//!
//! Fresh pages cost a fault each: 8.3 ms to fill 19 MiB of 4 KiB pages on this 2-core VM,
//! half again the 17 ms a hash takes. The mappings ask for transparent huge pages, which
//! filled the same 19 MiB in 1.5 ms (a C loop of mmap, touch, munmap; 200 rounds each).

use std::alloc::{GlobalAlloc, Layout};

/// Allocations of at least this size get their own mapping. Serving a page or an API
/// answer allocates nothing this large; hashing a password, reading an uploaded photo
/// and resizing it do, and each of those costs far more than mapping fresh pages.
pub const LARGE: usize = 1 << 20;

/// mimalloc below [`LARGE`]; from there up, a mapping of its own (`large` below).
pub struct Allocator;

// SAFETY: every block is freed (and resized) by the allocator that made it: both
// `dealloc` and `realloc` are given the layout the block was allocated with, and the
// layout alone decides which allocator that was; a resize across the line moves the block.
#[allow(unsafe_code)]
unsafe impl GlobalAlloc for Allocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if large::fits(layout) {
            large::map(layout.size())
        } else {
            unsafe { mimalloc::MiMalloc.alloc(layout) }
        }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        if large::fits(layout) {
            // A new anonymous mapping is already zeroed.
            large::map(layout.size())
        } else {
            unsafe { mimalloc::MiMalloc.alloc_zeroed(layout) }
        }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        if large::fits(layout) {
            unsafe { large::unmap(ptr, layout.size()) }
        } else {
            unsafe { mimalloc::MiMalloc.dealloc(ptr, layout) }
        }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: the caller guarantees `new_size`, rounded up to the alignment, does not
        // overflow `isize`, which is all this layout needs.
        let new_layout = unsafe { Layout::from_size_align_unchecked(new_size, layout.align()) };
        if !large::fits(layout) && !large::fits(new_layout) {
            return unsafe { mimalloc::MiMalloc.realloc(ptr, layout, new_size) };
        }
        // A new block, then a copy: large buffers are rarely resized.
        let new_ptr = unsafe { self.alloc(new_layout) };
        if !new_ptr.is_null() {
            // SAFETY: both blocks are at least this long and cannot overlap.
            unsafe {
                std::ptr::copy_nonoverlapping(ptr, new_ptr, layout.size().min(new_size));
                self.dealloc(ptr, layout);
            }
        }
        new_ptr
    }
}

/// Large blocks as anonymous mappings of their own (Linux).
#[cfg(target_os = "linux")]
#[allow(unsafe_code)]
mod large {
    use std::alloc::Layout;

    /// A page-aligned mapping serves any alignment up to a page.
    pub fn fits(layout: Layout) -> bool {
        layout.size() >= super::LARGE && layout.align() <= 4096
    }

    pub fn map(size: usize) -> *mut u8 {
        // SAFETY: a new private anonymous mapping touches no existing memory.
        let ptr = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                size,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                -1,
                0,
            )
        };
        if ptr == libc::MAP_FAILED {
            return std::ptr::null_mut();
        }
        // Only advice: where huge pages are off or unavailable, small pages serve.
        // SAFETY: the range is the mapping just made.
        unsafe { libc::madvise(ptr, size, libc::MADV_HUGEPAGE) };
        ptr.cast()
    }

    /// # Safety
    /// `ptr` and `size` are a block `map` returned, not used again.
    pub unsafe fn unmap(ptr: *mut u8, size: usize) {
        // SAFETY: the caller's mapping, whole.
        unsafe { libc::munmap(ptr.cast(), size) };
    }
}

/// Elsewhere (development machines) mimalloc takes everything.
#[cfg(not(target_os = "linux"))]
mod large {
    use std::alloc::Layout;

    pub fn fits(_: Layout) -> bool {
        false
    }

    pub fn map(_: usize) -> *mut u8 {
        unreachable!("no block is large off Linux")
    }

    pub unsafe fn unmap(_: *mut u8, _: usize) {
        unreachable!("no block is large off Linux")
    }
}

#[cfg(test)]
#[allow(unsafe_code)]
mod tests {
    use super::*;

    fn filled(size: usize, align: usize) -> (*mut u8, Layout) {
        let layout = Layout::from_size_align(size, align).unwrap();
        // SAFETY: the layout has a non-zero size.
        let ptr = unsafe { Allocator.alloc(layout) };
        assert!(!ptr.is_null());
        for i in 0..size {
            // SAFETY: `ptr` points to `size` writable bytes.
            unsafe { ptr.add(i).write(i as u8) };
        }
        (ptr, layout)
    }

    fn keeps_pattern(ptr: *const u8, len: usize) -> bool {
        // SAFETY: the caller's block is at least `len` bytes long.
        (0..len).all(|i| unsafe { ptr.add(i).read() } == i as u8)
    }

    #[test]
    fn a_block_resized_across_the_threshold_keeps_its_bytes_and_alignment() {
        for (from, to) in [(1000, LARGE + 5000), (LARGE * 2, 3000), (LARGE, LARGE * 3)] {
            let (ptr, layout) = filled(from, 64);
            // SAFETY: `ptr` came from this allocator with `layout`; `to` is non-zero.
            let moved = unsafe { Allocator.realloc(ptr, layout, to) };
            assert!(!moved.is_null());
            assert_eq!(
                moved as usize % 64,
                0,
                "{from} -> {to} bytes lost the alignment"
            );
            assert!(
                keeps_pattern(moved, from.min(to)),
                "{from} -> {to} bytes lost data"
            );
            let new_layout = Layout::from_size_align(to, 64).unwrap();
            // SAFETY: `moved` is now the block, with `to` bytes.
            unsafe { Allocator.dealloc(moved, new_layout) };
        }
    }

    #[test]
    fn a_large_zeroed_block_is_all_zeros() {
        let layout = Layout::from_size_align(LARGE * 4, 4096).unwrap();
        // SAFETY: non-zero size.
        let ptr = unsafe { Allocator.alloc_zeroed(layout) };
        assert!(!ptr.is_null());
        // SAFETY: `ptr` points to `layout.size()` bytes.
        assert!((0..layout.size()).all(|i| unsafe { ptr.add(i).read() } == 0));
        // SAFETY: `ptr` came from this allocator with `layout`.
        unsafe { Allocator.dealloc(ptr, layout) };
    }

    /// The point of the split: a freed large block is no longer part of the process.
    /// Checked in /proc/self/maps rather than by RSS, which other tests move at the same
    /// time; one of three points is enough, in case another test's mapping lands there.
    #[cfg(target_os = "linux")]
    #[test]
    fn a_freed_large_block_is_given_back_to_the_system() {
        fn mapped(address: usize) -> bool {
            std::fs::read_to_string("/proc/self/maps")
                .unwrap()
                .lines()
                .filter_map(|line| line.split_once(' ')?.0.split_once('-'))
                .filter_map(|(start, end)| {
                    Some((
                        usize::from_str_radix(start, 16).ok()?,
                        usize::from_str_radix(end, 16).ok()?,
                    ))
                })
                .any(|(start, end)| (start..end).contains(&address))
        }
        let (ptr, layout) = filled(20 << 20, 64);
        let points = [0, 10 << 20, (20 << 20) - 1].map(|offset| ptr as usize + offset);
        assert!(points.iter().all(|&point| mapped(point)));
        // SAFETY: `ptr` came from this allocator with `layout`.
        unsafe { Allocator.dealloc(ptr, layout) };
        assert!(
            points.iter().any(|&point| !mapped(point)),
            "the 20 MiB block stayed mapped after it was freed"
        );
    }
}
