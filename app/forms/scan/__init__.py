"""Reading scans: files to page images, page images to decoded codes, in helper processes."""
