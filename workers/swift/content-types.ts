// Content-Type for an object uploaded without one, guessed from its name's extension as
// Swift's proxy does with Python's mimetypes; application/octet-stream otherwise.
const TYPES: Record<string, string> = {
  txt: 'text/plain', text: 'text/plain', log: 'text/plain', md: 'text/markdown', csv: 'text/csv',
  html: 'text/html', htm: 'text/html', css: 'text/css', js: 'text/javascript', mjs: 'text/javascript',
  json: 'application/json', xml: 'application/xml', yaml: 'application/yaml', yml: 'application/yaml',
  pdf: 'application/pdf', zip: 'application/zip', gz: 'application/gzip', tgz: 'application/gzip',
  tar: 'application/x-tar', bz2: 'application/x-bzip2', xz: 'application/x-xz', '7z': 'application/x-7z-compressed',
  iso: 'application/x-iso9660-image', img: 'application/octet-stream', qcow2: 'application/octet-stream',
  png: 'image/png', jpg: 'image/jpeg', jpeg: 'image/jpeg', gif: 'image/gif', svg: 'image/svg+xml',
  webp: 'image/webp', ico: 'image/vnd.microsoft.icon', mp3: 'audio/mpeg', mp4: 'video/mp4', wav: 'audio/x-wav',
  py: 'text/x-python', sh: 'application/x-sh', c: 'text/x-c', h: 'text/x-c',
};

export function guessContentType(name: string): string {
  const base = name.slice(name.lastIndexOf('/') + 1);
  const dot = base.lastIndexOf('.');
  return (dot > 0 && TYPES[base.slice(dot + 1).toLowerCase()]) || 'application/octet-stream';
}
