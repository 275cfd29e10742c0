// Glance's default policy rules, named as upstream names them so policy files carry
// over. Which images a caller may see at all is decided where images are loaded (as
// Glance's database layer does): these rules decide what a caller may do to them.
// Targets: project_id (the image owner), member_id (the caller's project when it is a
// member of the image), visibility.
import { servicePolicy, type PolicyContext, type PolicyRule } from '../../lib/policy';

const ADMIN = 'role:admin';
const PROJECT_MEMBER = `${ADMIN} or (role:member and project_id:%(project_id)s)`;
const READER = `${ADMIN} or role:reader`;
const MEMBER_READER = `${ADMIN} or (role:reader and (project_id:%(project_id)s or project_id:%(member_id)s))`;

const rule = (name: string, checkStr: string, description: string, method: string, path: string): PolicyRule => ({
  name, checkStr, description, operations: [{ method, path }],
});

export const glancePolicies: PolicyRule[] = [
  { name: 'context_is_admin', checkStr: ADMIN, description: 'Decides what is an admin context.' },
  rule('add_image', `${ADMIN} or (role:member and project_id:%(owner)s)`, 'Create a new image.', 'POST', '/v2/images'),
  rule('get_image', READER, 'Get an image (visibility decides which).', 'GET', '/v2/images/{image_id}'),
  rule('get_images', READER, 'List images.', 'GET', '/v2/images'),
  rule('modify_image', PROJECT_MEMBER, 'Update an image or its tags.', 'PATCH', '/v2/images/{image_id}'),
  rule('publicize_image', ADMIN, 'Make an image public.', 'PATCH', '/v2/images/{image_id}'),
  rule('communitize_image', PROJECT_MEMBER, 'Make an image a community image.', 'PATCH', '/v2/images/{image_id}'),
  rule('delete_image', PROJECT_MEMBER, 'Delete an image.', 'DELETE', '/v2/images/{image_id}'),
  rule('upload_image', PROJECT_MEMBER, 'Upload or stage image data.', 'PUT', '/v2/images/{image_id}/file'),
  rule('import_image', PROJECT_MEMBER, 'Import staged image data.', 'POST', '/v2/images/{image_id}/import'),
  rule('download_image', READER, 'Download image data.', 'GET', '/v2/images/{image_id}/file'),
  rule('deactivate', ADMIN, 'Deactivate an image.', 'POST', '/v2/images/{image_id}/actions/deactivate'),
  rule('reactivate', ADMIN, 'Reactivate an image.', 'POST', '/v2/images/{image_id}/actions/reactivate'),
  rule('add_member', PROJECT_MEMBER, 'Share an image with a project.', 'POST', '/v2/images/{image_id}/members'),
  rule('delete_member', PROJECT_MEMBER, 'Stop sharing an image with a project.', 'DELETE', '/v2/images/{image_id}/members/{member_id}'),
  rule('get_member', MEMBER_READER, 'Show an image member.', 'GET', '/v2/images/{image_id}/members/{member_id}'),
  rule('get_members', MEMBER_READER, 'List image members.', 'GET', '/v2/images/{image_id}/members'),
  rule('modify_member', `${ADMIN} or (role:member and project_id:%(member_id)s)`, 'Accept or reject a shared image.', 'PUT', '/v2/images/{image_id}/members/{member_id}'),
  rule('stores_info_detail', ADMIN, 'Show store details.', 'GET', '/v2/info/stores/detail'),
];

export const { authorize, allowed } = servicePolicy(glancePolicies);

export const isAdmin = (c: PolicyContext) => allowed(c, 'context_is_admin');
