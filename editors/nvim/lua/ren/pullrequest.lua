--- ren.nvim: the pull request preview counts as you left it.
---
--- ren-lsp streams the title and description of :RenPullRequest into a preview (an output
--- document: a file under ren-lsp/sessions/ that Neovim does not share with the server), then
--- asks to confirm with window/showMessageRequest. This handler asks with a third choice,
--- "Edit the preview first": the preview window takes the focus, you edit it, and `:w` asks
--- again. On "Create" the preview buffer's text, saved or not, is written to the preview's
--- file before the answer goes back, and the server reads the title and body from that file.
local P = {}

P.EDIT = 'Edit the preview first'

--- The latest session :RenPullRequest started, by client id (an older one's preview, still
--- loaded, is not the one being confirmed).
P.sessions = {}

function P.started(client_id, session)
  P.sessions[client_id] = session
end

--- The loaded preview buffer of the latest pull request session of this client, if any: the
--- output document named `<stamp>-<session>.md`.
function P.preview_buffer(client_id)
  local session = P.sessions[client_id]
  if not session then
    return nil
  end
  local suffix = '-' .. session .. '.md'
  for _, bufnr in ipairs(vim.api.nvim_list_bufs()) do
    local name = vim.api.nvim_buf_get_name(bufnr)
    if vim.api.nvim_buf_is_loaded(bufnr) and require('ren').is_output(name)
      and name:sub(-#suffix) == suffix then
      return bufnr
    end
  end
  return nil
end

--- Write the buffer's text to its file (the preview file the server reads on "Create").
function P.save(bufnr)
  local lines = vim.api.nvim_buf_get_lines(bufnr, 0, -1, false)
  local name = vim.api.nvim_buf_get_name(bufnr)
  if vim.fn.writefile(lines, name) ~= 0 then
    vim.notify(('ren: could not write the preview to %s'):format(name), vim.log.levels.ERROR,
      { title = 'ren' })
    return false
  end
  vim.bo[bufnr].modified = false
  return true
end

local function action(params, title)
  for _, item in ipairs(params.actions or {}) do
    if item.title == title then
      return item
    end
  end
end

local function is_confirmation(params)
  return action(params, 'Create') ~= nil and action(params, 'Cancel') ~= nil
end

--- Let the user edit the preview; `:w` (or leaving it) calls `done` once.
local function edit(bufnr, done)
  local win = vim.fn.bufwinid(bufnr)
  if win == -1 then
    vim.api.nvim_open_win(bufnr, true, { split = require('ren').options.split, win = 0 })
  else
    vim.api.nvim_set_current_win(win)
  end
  vim.bo[bufnr].buftype = 'acwrite' -- `:w` runs BufWriteCmd below instead of being refused
  local group = vim.api.nvim_create_augroup('ren.pullrequest.' .. bufnr, { clear = true })
  local function finish(saved)
    vim.api.nvim_del_augroup_by_id(group)
    if vim.api.nvim_buf_is_valid(bufnr) then
      vim.bo[bufnr].buftype = 'nowrite'
    end
    done(saved)
  end
  vim.api.nvim_create_autocmd('BufWriteCmd', {
    group = group,
    buffer = bufnr,
    callback = function()
      if P.save(bufnr) then
        finish(true)
      end
    end,
  })
  vim.api.nvim_create_autocmd({ 'BufUnload', 'BufWipeout' }, {
    group = group,
    buffer = bufnr,
    callback = function()
      finish(false)
    end,
  })
  vim.notify('Edit the title (the first "# " line) and the description, then :w to create '
    .. 'the pull request (you are asked again)', vim.log.levels.INFO, { title = 'ren' })
end

--- window/showMessageRequest for ren clients: the pull request confirmation as above, any
--- other request Neovim's way.
function P.message_request(err, params, ctx, ...)
  local default = vim.lsp.handlers['window/showMessageRequest']
  local bufnr = ctx and ctx.client_id and P.preview_buffer(ctx.client_id)
  local co, is_main = coroutine.running()
  if not bufnr or not is_confirmation(params) or not co or is_main then
    local choice = default(err, params, ctx, ...)
    if bufnr and type(choice) == 'table' and choice.title == 'Create' then
      P.save(bufnr)
    end
    return choice
  end
  local items = { action(params, 'Create'), { title = P.EDIT }, action(params, 'Cancel') }
  local function ask()
    vim.ui.select(items, {
      kind = 'lsp_message',
      prompt = params.message .. ': ',
      format_item = function(item)
        return item.title
      end,
    }, function(choice)
      -- scheduled: the default vim.ui.select answers before the coroutine yields
      vim.schedule(function()
        if choice and choice.title == P.EDIT then
          edit(bufnr, function(saved)
            if saved then
              ask()
            else
              coroutine.resume(co, action(params, 'Cancel'))
            end
          end)
          return
        end
        if choice and choice.title == 'Create' and not P.save(bufnr) then
          choice = nil
        end
        coroutine.resume(co, choice or vim.NIL)
      end)
    end)
  end
  ask()
  return coroutine.yield()
end

return P
