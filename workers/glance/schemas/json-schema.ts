// The JSON schemas Glance serves at /v2/schemas/*; glanceclient reads them to know
// which attributes are core and which are custom properties.
import { CONTAINER_FORMATS, DISK_FORMATS, MEMBER_STATUSES, STATUSES, UUID_PATTERN, VISIBILITIES } from './images';

const str = (description: string, extra: Record<string, unknown> = {}) => ({ type: 'string', description, ...extra });
const nullable = (type: string, description: string, extra: Record<string, unknown> = {}) => ({ type: ['null', type], description, ...extra });
const readOnly = { readOnly: true };

const imageProperties = {
  id: str('An identifier for the image', { pattern: UUID_PATTERN }),
  name: nullable('string', 'Descriptive name for the image', { maxLength: 255 }),
  status: str('Status of the image', { ...readOnly, enum: STATUSES }),
  visibility: str('Scope of image accessibility', { enum: VISIBILITIES }),
  protected: { type: 'boolean', description: 'If true, image will not be deletable.' },
  os_hidden: { type: 'boolean', description: 'If true, image will not appear in default image list response.' },
  checksum: nullable('string', 'md5 hash of image contents.', { ...readOnly, maxLength: 32 }),
  os_hash_algo: nullable('string', 'Algorithm to calculate the os_hash_value', { ...readOnly, maxLength: 64 }),
  os_hash_value: nullable('string', 'Hexdigest of the image contents using the algorithm specified by the os_hash_algo', { ...readOnly, maxLength: 128 }),
  owner: nullable('string', 'Owner of the image', { maxLength: 255 }),
  size: nullable('integer', 'Size of image file in bytes', readOnly),
  virtual_size: nullable('integer', 'Virtual size of image in bytes', readOnly),
  container_format: nullable('string', 'Format of the container', { enum: [null, ...CONTAINER_FORMATS] }),
  disk_format: nullable('string', 'Format of the disk', { enum: [null, ...DISK_FORMATS] }),
  created_at: str('Date and time of image registration', { ...readOnly, format: 'date-time' }),
  updated_at: str('Date and time of the last image modification', { ...readOnly, format: 'date-time' }),
  tags: { type: 'array', description: 'List of strings related to the image', items: { type: 'string', maxLength: 255 } },
  direct_url: str('URL to access the image file kept in external store', readOnly),
  min_ram: { type: 'integer', description: 'Amount of ram (in MB) required to boot image.' },
  min_disk: { type: 'integer', description: 'Amount of disk space (in GB) required to boot image.' },
  self: str('An image self url', readOnly),
  file: str('An image file url', readOnly),
  stores: str('Store in which image data resides.  Only present when the operator has enabled multiple stores.', readOnly),
  schema: str('An image schema url', readOnly),
  kernel_id: nullable('string', 'ID of image stored in Glance that should be used as the kernel when booting an AMI-style image.', { pattern: UUID_PATTERN, is_base: false }),
  ramdisk_id: nullable('string', 'ID of image stored in Glance that should be used as the ramdisk when booting an AMI-style image.', { pattern: UUID_PATTERN, is_base: false }),
  instance_uuid: str('Metadata which can be used to record which instance this image is associated with.', { is_base: false }),
  architecture: str('Operating system architecture as specified in https://docs.openstack.org/python-glanceclient/latest/cli/property-keys.html', { is_base: false }),
  os_distro: str('Common name of operating system distribution as specified in https://docs.openstack.org/python-glanceclient/latest/cli/property-keys.html', { is_base: false }),
  os_version: str('Operating system version as specified by the distributor.', { is_base: false }),
  description: str('A human-readable string describing this image.', { is_base: false }),
};

export const imageSchema = {
  name: 'image',
  properties: imageProperties,
  additionalProperties: { type: 'string' },
  links: [
    { rel: 'self', href: '{self}' },
    { rel: 'enclosure', href: '{file}' },
    { rel: 'describedby', href: '{schema}' },
  ],
};

export const imagesSchema = {
  name: 'images',
  properties: {
    images: { type: 'array', items: imageSchema },
    schema: { type: 'string' },
    first: { type: 'string' },
    next: { type: 'string' },
  },
  links: [
    { rel: 'first', href: '{first}' },
    { rel: 'next', href: '{next}' },
    { rel: 'describedby', href: '{schema}' },
  ],
};

const memberProperties = {
  created_at: str('Date and time of image member creation'),
  image_id: str('An identifier for the image', { pattern: UUID_PATTERN }),
  member_id: str('An identifier for the image member (tenantId)'),
  status: str('The status of this image member', { enum: MEMBER_STATUSES }),
  updated_at: str('Date and time of last modification of image member'),
  schema: str('', readOnly),
};

export const memberSchema = { name: 'member', properties: memberProperties };

export const membersSchema = {
  name: 'members',
  properties: {
    members: { type: 'array', items: memberSchema },
    schema: { type: 'string' },
  },
  links: [{ rel: 'describedby', href: '{schema}' }],
};
